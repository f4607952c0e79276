//! Tests of token verification: every way a token can be wrong, and the access levels.

use super::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::SecretString;

const SECRET: &str = "a-test-secret-that-is-long-enough-for-hs256";
const RS_PRIVATE: &str = include_str!("../../tests/fixtures/rs256-private.pem");
const RS_PUBLIC: &str = include_str!("../../tests/fixtures/rs256-public.pem");

fn hs256() -> Authenticator {
    Authenticator::from_settings(&AuthSettings {
        secret: Some(SecretString::from(SECRET)),
        dev_tokens: true,
        ..AuthSettings::default()
    })
    .unwrap()
}

fn rs256() -> Authenticator {
    Authenticator::from_settings(&AuthSettings {
        algorithm: AuthAlgorithm::RS256,
        public_key: Some(RS_PUBLIC.into()),
        ..AuthSettings::default()
    })
    .unwrap()
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn sign(alg: Algorithm, key: &EncodingKey, exp: u64, supreme: bool) -> String {
    let claims = Claims {
        sub: Some("alice".into()),
        exp,
        is_supreme: supreme,
        iss: None,
        aud: None,
    };
    jsonwebtoken::encode(&Header::new(alg), &claims, key).unwrap()
}

fn hs(secret: &str, exp: u64, supreme: bool) -> String {
    sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(secret.as_bytes()),
        exp,
        supreme,
    )
}

#[test]
fn valid_token_passes_each_level() {
    let auth = hs256();
    let token = hs(SECRET, now() + 60, true);
    let claims = auth
        .authorize(Some(&token), Level::Supreme)
        .unwrap()
        .unwrap();
    assert_eq!(claims.sub.as_deref(), Some("alice"));
    assert!(auth.authorize(Some(&token), Level::User).is_ok());
    assert!(auth.authorize(None, Level::Public).unwrap().is_none());
}

#[test]
fn expired_token_is_refused() {
    let token = hs(SECRET, now() - 3600, true);
    assert!(matches!(hs256().verify(&token), Err(AuthError::Expired)));
}

#[test]
fn token_signed_with_another_key_is_refused() {
    let token = hs("another-secret-another-secret-another", now() + 60, true);
    assert!(matches!(hs256().verify(&token), Err(AuthError::Invalid(_))));
}

#[test]
fn alg_none_is_refused() {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(
        format!(
            r#"{{"sub":"mallory","exp":{},"isSupreme":true}}"#,
            now() + 60
        )
        .as_bytes(),
    );
    let token = format!("{header}.{body}.");
    assert!(matches!(hs256().verify(&token), Err(AuthError::Invalid(_))));
    assert!(matches!(rs256().verify(&token), Err(AuthError::Invalid(_))));
}

#[test]
fn hs256_token_is_refused_by_an_rs256_configuration() {
    // The classic confusion: an HMAC token keyed with the server's public key.
    let token = hs(RS_PUBLIC, now() + 60, true);
    assert!(matches!(rs256().verify(&token), Err(AuthError::Invalid(_))));
}

#[test]
fn rs256_token_passes_an_rs256_configuration() {
    let key = EncodingKey::from_rsa_pem(RS_PRIVATE.as_bytes()).unwrap();
    let token = sign(Algorithm::RS256, &key, now() + 60, false);
    assert!(rs256().verify(&token).is_ok());
    // ...and an RS256 token is refused where HS256 is pinned.
    assert!(matches!(hs256().verify(&token), Err(AuthError::Invalid(_))));
}

#[test]
fn missing_exp_is_refused() {
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &serde_json::json!({"sub": "x", "isSupreme": true}),
        &key,
    )
    .unwrap();
    assert!(matches!(hs256().verify(&token), Err(AuthError::Invalid(_))));
}

#[test]
fn non_supreme_token_on_a_supreme_route_is_forbidden() {
    let token = hs(SECRET, now() + 60, false);
    assert!(matches!(
        hs256().authorize(Some(&token), Level::Supreme),
        Err(AuthError::NotSupreme)
    ));
}

#[test]
fn no_token_on_a_user_route_is_unauthorized() {
    assert!(matches!(
        hs256().authorize(None, Level::User),
        Err(AuthError::Missing)
    ));
}

#[test]
fn issuer_and_audience_are_enforced_when_configured() {
    let auth = Authenticator::from_settings(&AuthSettings {
        secret: Some(SecretString::from(SECRET)),
        issuer: Some("acme".into()),
        audience: Some("hoist".into()),
        dev_tokens: true,
        ..AuthSettings::default()
    })
    .unwrap();
    let minted = auth.mint(None, true, Duration::from_secs(60)).unwrap();
    assert!(
        auth.verify(&minted).is_ok(),
        "minted tokens carry iss and aud"
    );
    let bare = hs(SECRET, now() + 60, true);
    assert!(matches!(auth.verify(&bare), Err(AuthError::Invalid(_))));
}

#[test]
fn minting_needs_dev_tokens() {
    let auth = Authenticator::from_settings(&AuthSettings {
        secret: Some(SecretString::from(SECRET)),
        ..AuthSettings::default()
    })
    .unwrap();
    assert!(auth.mint(None, true, Duration::from_secs(60)).is_none());
    let token = hs256()
        .mint(Some("bob".into()), false, Duration::from_secs(60))
        .unwrap();
    let claims = hs256().verify(&token).unwrap();
    assert_eq!(claims.sub.as_deref(), Some("bob"));
    assert!(!claims.is_supreme);
}

fn hs_claims(claims: serde_json::Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

#[test]
fn a_token_not_valid_yet_is_refused_beyond_the_leeway() {
    let auth = Authenticator::from_settings(&AuthSettings {
        secret: Some(SecretString::from(SECRET)),
        leeway_secs: 30,
        ..AuthSettings::default()
    })
    .unwrap();
    let soon = hs_claims(serde_json::json!({"exp": now() + 600, "nbf": now() + 300}));
    match auth.verify(&soon) {
        Err(AuthError::Invalid(why)) => assert!(why.contains("nbf"), "{why}"),
        other => panic!("{other:?}"),
    }
    // Within the 30 s leeway, and in the past, it passes.
    let skewed = hs_claims(serde_json::json!({"exp": now() + 600, "nbf": now() + 10}));
    assert!(auth.verify(&skewed).is_ok());
    let past = hs_claims(serde_json::json!({"exp": now() + 600, "nbf": now() - 10}));
    assert!(auth.verify(&past).is_ok());
}

#[test]
fn the_audience_may_be_a_string_or_an_array() {
    let auth = Authenticator::from_settings(&AuthSettings {
        secret: Some(SecretString::from(SECRET)),
        audience: Some("hoist".into()),
        ..AuthSettings::default()
    })
    .unwrap();
    let many = hs_claims(serde_json::json!({"exp": now() + 60, "aud": ["x", "hoist"]}));
    let claims = auth.verify(&many).unwrap();
    assert_eq!(
        claims.aud,
        Some(Audience::Many(vec!["x".into(), "hoist".into()]))
    );
    let one = hs_claims(serde_json::json!({"exp": now() + 60, "aud": "hoist"}));
    assert!(auth.verify(&one).is_ok());
    let others = hs_claims(serde_json::json!({"exp": now() + 60, "aud": ["x", "y"]}));
    assert!(matches!(auth.verify(&others), Err(AuthError::Invalid(_))));
    // Without a configured audience, an array is read too.
    assert!(hs256().verify(&many).is_ok());
}

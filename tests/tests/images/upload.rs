//! Images that are stored: PNG, GIF and JPEG byte-identical, a data URL through the
//! generated client, a fresh key per upload, and safe keys from hostile file names.

use aws_sdk_s3::types::ChecksumMode;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hoist_tests::{TestServer, assert_client_error};
use serde_json::json;

use super::{GIF, IMAGES_BUCKET, JPEG, PNG, is_safe_name, post_image, stored_keys};

#[tokio::test]
async fn real_images_round_trip_byte_identical() {
    let server = TestServer::start().await;
    let user = server.token(false);
    let s3 = server.embedded_s3();
    for (bytes, content_type, file_name, ext) in [
        (PNG, "image/png", "Red Pixel.png", "png"),
        (GIF, "image/gif", "red-pixel.gif", "gif"),
        (JPEG, "image/jpeg", "red_pixel.jpeg", "jpg"),
    ] {
        let answer = post_image(
            &server,
            Some(&user),
            &json!({
                "base64": STANDARD.encode(bytes),
                "contentType": content_type,
                "fileName": file_name,
            }),
        )
        .await;
        assert_eq!(answer.status, 200, "{answer:?}");
        let data = &answer.body["data"];
        let key = data["key"].as_str().unwrap();
        let stem = file_name.split('.').next().unwrap().replace(' ', "_");
        assert!(key.starts_with(&format!("{stem}_")), "{key}");
        assert!(is_safe_name(key, ext), "{key}");
        assert_eq!(data["name"], key, "no prefix is configured");
        assert_eq!(data["bucket"], "images");
        assert_eq!(data["size"], bytes.len());
        assert_eq!(data["contentType"], content_type);
        assert!(
            data["url"].as_str().unwrap().ends_with(&format!("/{key}")),
            "{data}"
        );

        let object = s3
            .get_object()
            .bucket(IMAGES_BUCKET)
            .key(key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .expect("the object exists in the images bucket");
        assert_eq!(object.content_type(), Some(content_type));
        assert_eq!(
            object.checksum_crc32_c(),
            data["checksum"].as_str(),
            "the store holds the checksum Hoist reported"
        );
        let stored = object.body.collect().await.unwrap().into_bytes();
        assert_eq!(&stored[..], bytes, "{content_type} is byte-identical");
    }
    assert_eq!(stored_keys(&server).await.len(), 3);
}

#[tokio::test]
async fn the_generated_client_uploads_a_data_url() {
    let server = TestServer::start().await;
    // A data URL with MIME line breaks, as some encoders produce.
    let wrapped: Vec<String> = STANDARD
        .encode(GIF)
        .as_bytes()
        .chunks(16)
        .map(|line| String::from_utf8(line.to_vec()).unwrap())
        .collect();
    let upload = hoist_client::types::ImageUpload {
        base64: format!("data:image/gif;base64,{}", wrapped.join("\r\n")),
        content_type: "image/gif".into(),
        file_name: None,
    };
    let stored = server
        .client()
        .upload_image(&upload)
        .await
        .expect("the image is stored")
        .into_inner()
        .data;
    assert!(stored.key.starts_with("image_"), "{}", stored.key);
    assert!(is_safe_name(&stored.key, "gif"), "{}", stored.key);
    assert_eq!(stored.size, GIF.len() as u64);

    let object = server
        .embedded_s3()
        .get_object()
        .bucket(IMAGES_BUCKET)
        .key(&stored.key)
        .send()
        .await
        .unwrap();
    assert_eq!(&object.body.collect().await.unwrap().into_bytes()[..], GIF);

    // Refusals reach the generated client as the error envelope.
    let mismatch = hoist_client::types::ImageUpload {
        base64: URL_SAFE_NO_PAD.encode(PNG),
        content_type: "image/gif".into(),
        file_name: Some("not really.gif".into()),
    };
    assert_client_error(
        server.client().upload_image(&mismatch).await,
        415,
        "content-type-mismatch",
    );
    assert_eq!(stored_keys(&server).await, [stored.key]);
}

#[tokio::test]
async fn the_same_file_name_twice_gets_two_keys() {
    let server = TestServer::start().await;
    let user = server.token(false);
    let upload = json!({
        "base64": STANDARD.encode(PNG),
        "contentType": "image/png",
        "fileName": "avatar.png",
    });
    let first = post_image(&server, Some(&user), &upload).await;
    let second = post_image(&server, Some(&user), &upload).await;
    let first = first.body["data"]["key"].as_str().unwrap().to_owned();
    let second = second.body["data"]["key"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert!(first.starts_with("avatar_") && second.starts_with("avatar_"));
    let mut stored = stored_keys(&server).await;
    stored.sort();
    let mut expected = vec![first, second];
    expected.sort();
    assert_eq!(stored, expected, "both images are kept");
}

#[tokio::test]
async fn hostile_file_names_give_safe_keys_under_the_prefix() {
    let server = TestServer::start_with(|settings| {
        settings.images.prefix = Some("/avatars//2024".into());
    })
    .await;
    let user = server.token(false);
    let cases = [
        ("../../etc/passwd", "passwd"),
        ("a/b.png", "b"),
        ("..\\..\\windows\\win.ini", "win"),
        ("Fotó Ünïcödé.png", "Foto_Unicode"),
        ("照片.png", "image"),
        ("..", "image"),
        ("x\u{0}\r\nSet-Cookie: a=b.png", "x_Set-Cookie_a_b"),
        ("%2e%2e%2fsecret.png", "2e_2e_2fsecret"),
    ];
    let mut keys = Vec::new();
    for (file_name, expected) in cases {
        let answer = post_image(
            &server,
            Some(&user),
            &json!({
                "base64": STANDARD.encode(PNG),
                "contentType": "image/png",
                "fileName": file_name,
            }),
        )
        .await;
        assert_eq!(answer.status, 200, "{file_name:?}: {answer:?}");
        let key = answer.body["data"]["key"].as_str().unwrap().to_owned();
        let name = key
            .strip_prefix("avatars/2024/")
            .unwrap_or_else(|| panic!("{key} is under the normalized prefix"));
        assert!(is_safe_name(name, "png"), "{file_name:?} gave {key}");
        assert!(
            name.starts_with(&format!("{expected}_")),
            "{file_name:?} gave {key}"
        );
        assert_eq!(answer.body["data"]["name"], name);
        keys.push(key);
    }
    let mut stored = stored_keys(&server).await;
    stored.sort();
    keys.sort();
    assert_eq!(
        stored, keys,
        "every image is where its key says, nowhere else"
    );
}

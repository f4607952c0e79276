//! Step Functions triggers: an execution gets the payload and the correlation id (under a
//! field of the route's choosing), and an idempotency key starts one execution only.

use serde_json::{Value, json};

use hoist_tests::moto;

use super::{call, declare, executions, hoist_on_moto};

#[tokio::test]
async fn a_step_function_execution_gets_the_payload_and_the_correlation_id() {
    let machine = moto::create_state_machine(&moto::unique("selection")).await;
    let mut custom_field = declare("step-function", &machine);
    custom_field.correlation_field = Some("traceId".into());
    let server = hoist_on_moto(vec![
        ("selection", declare("step-function", &machine)),
        ("traced", custom_field),
    ])
    .await;
    let token = server.token(true);

    let answer = call(
        &server,
        "selection",
        Some(&token),
        &[("x-correlation-id", "corr-sfn-1")],
        json!({"eventId": "123", "seats": 2}),
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let data = answer.data();
    assert_eq!(data["success"], true);
    let arn = data["executionArn"].as_str().expect("an execution ARN");
    assert!(
        data["startDate"].as_str().is_some_and(|d| d.ends_with('Z')),
        "{data}"
    );

    let execution = moto::sfn()
        .describe_execution()
        .execution_arn(arn)
        .send()
        .await
        .expect("moto knows the execution");
    assert_eq!(execution.state_machine_arn(), machine);
    let input: Value = serde_json::from_str(execution.input().unwrap()).unwrap();
    assert_eq!(
        input,
        json!({"eventId": "123", "seats": 2, "correlationId": "corr-sfn-1"})
    );

    let answer = call(
        &server,
        "traced",
        Some(&token),
        &[("x-correlation-id", "corr-sfn-2")],
        json!({"eventId": "124"}),
    )
    .await;
    let execution = moto::sfn()
        .describe_execution()
        .execution_arn(answer.data()["executionArn"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let input: Value = serde_json::from_str(execution.input().unwrap()).unwrap();
    assert_eq!(input, json!({"eventId": "124", "traceId": "corr-sfn-2"}));

    let answer = call(
        &server,
        "selection",
        Some(&token),
        &[],
        json!({"correlationId": "mine"}),
    )
    .await;
    answer.assert_error(400, "reserved-field");
}

#[tokio::test]
async fn an_idempotency_key_sent_twice_starts_one_execution() {
    let machine = moto::create_state_machine(&moto::unique("selection")).await;
    let server = hoist_on_moto(vec![("selection", declare("step-function", &machine))]).await;
    let token = server.token(true);
    let key = moto::unique("order");
    let data = json!({"eventId": "123"});

    // Each request has its own correlation id, so the inputs differ: Step Functions alone
    // would refuse the second as ExecutionAlreadyExists rather than return the first.
    let keyed = [("idempotency-key", key.as_str())];
    let call_keyed = || call(&server, "selection", Some(&token), &keyed, data.clone());
    let first = call_keyed().await;
    let second = call_keyed().await;
    assert_ne!(first.correlation_id, second.correlation_id);
    assert_eq!(first.data()["executionArn"], second.data()["executionArn"]);
    assert_eq!(first.data()["startDate"], second.data()["startDate"]);
    assert!(
        first.data()["executionArn"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":{key}")),
        "the key names the execution"
    );
    assert_eq!(executions(&machine).await, [key.as_str()]);

    let other = call(
        &server,
        "selection",
        Some(&token),
        &[("idempotency-key", &key)],
        json!({"eventId": "999"}),
    )
    .await;
    other.assert_error(409, "idempotency-conflict");
    assert_eq!(executions(&machine).await.len(), 1);

    let bad = call(
        &server,
        "selection",
        Some(&token),
        &[("idempotency-key", "a b")],
        data.clone(),
    )
    .await;
    bad.assert_error(400, "invalid-idempotency-key");

    // Without a key every call is a new execution.
    for _ in 0..2 {
        call(&server, "selection", Some(&token), &[], data.clone())
            .await
            .data();
    }
    assert_eq!(executions(&machine).await.len(), 3);
}

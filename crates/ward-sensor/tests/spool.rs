//! The on-disk spool: order, bound, restart, crash leftovers, corrupt files; batch ids.

use std::time::Duration;
use ward_sensor::{Spool, SpoolError};
use ward_store::{Batch, SensorBatch};

fn batch(n: u64, payload: usize) -> SensorBatch {
    let b = Batch {
        files: vec![format!("file-{n}-{}", "x".repeat(payload))],
        ..Default::default()
    };
    SensorBatch {
        batch_id: SensorBatch::content_id("s", "main", n, &b),
        sensor: "s".into(),
        site: "main".into(),
        seq: 0,
        flows: 0,
        batch: b,
    }
}

#[test]
fn delivers_in_order_and_survives_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ids: Vec<String> = {
        let spool = Spool::open(dir.path(), 1 << 20).expect("open");
        (0..5)
            .map(|n| {
                let mut b = batch(n, 10);
                let seq = spool.push(&mut b).expect("push");
                assert_eq!(seq, n);
                b.batch_id
            })
            .collect()
    };
    // A restart: the same batches, oldest first; new ones are numbered after them.
    let spool = Spool::open(dir.path(), 1 << 20).expect("reopen");
    assert_eq!(spool.len(), 5);
    let first = spool.oldest().expect("oldest").expect("one");
    assert_eq!(first.batch_id, ids[0]);
    spool.remove(first.seq).expect("remove");
    assert_eq!(
        spool.oldest().expect("oldest").expect("one").batch_id,
        ids[1]
    );
    for _ in 1..5 {
        let o = spool.oldest().expect("oldest").expect("one");
        spool.remove(o.seq).expect("remove");
    }
    assert!(spool.is_empty());
    drop(spool);
    // Emptied and reopened: numbers keep growing (the server never sees an old seq again).
    let spool = Spool::open(dir.path(), 1 << 20).expect("reopen");
    let mut b = batch(9, 10);
    assert_eq!(spool.push(&mut b).expect("push"), 5);
    // The body is what was pushed.
    let o = spool.oldest().expect("oldest").expect("one");
    let back = ward_sensor::spool::decode(&o.body).expect("decode");
    assert_eq!(back, b);
}

#[test]
fn is_bounded_and_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let spool = Spool::open(dir.path(), 600).expect("open");
    let mut pushed = 0;
    let err = loop {
        match spool.push(&mut batch(pushed, 200)) {
            Ok(_) => pushed += 1,
            Err(e) => break e,
        }
        assert!(pushed < 100, "the spool never filled");
    };
    assert!(pushed >= 1);
    assert!(matches!(err, SpoolError::Full { .. }), "{err}");
    assert!(spool.bytes() <= 600);
    assert!(err.to_string().contains("full"), "{err}");
    // Too large for any spool of this size.
    let err = spool
        .push(&mut batch(1000, 100_000))
        .expect_err("too large");
    assert!(matches!(err, SpoolError::TooLarge { .. }), "{err}");
    // push_wait gives up when asked to.
    let err = spool
        .push_wait(
            &mut batch(1001, 200),
            Some(Duration::from_millis(100)),
            &|| true,
        )
        .expect_err("still full");
    assert!(matches!(err, SpoolError::Full { .. }));
    // Room again after a delivery.
    let o = spool.oldest().expect("oldest").expect("one");
    spool.remove(o.seq).expect("remove");
    spool.push(&mut batch(1002, 200)).expect("room again");
}

#[test]
fn crash_leftovers_are_cleaned_and_corrupt_files_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let spool = Spool::open(dir.path(), 1 << 20).expect("open");
        spool.push(&mut batch(0, 10)).expect("push");
    }
    // A write interrupted before its rename, and a foreign file: ignored / removed.
    std::fs::write(dir.path().join(".tmp-00000000000000000001.batch"), b"half").expect("write");
    std::fs::write(dir.path().join("notes.txt"), b"x").expect("write");
    let spool = Spool::open(dir.path(), 1 << 20).expect("reopen");
    assert_eq!(spool.len(), 1);
    assert!(!dir.path().join(".tmp-00000000000000000001.batch").exists());
    // A damaged batch file is reported with its path, not delivered as something else.
    let o = spool.oldest().expect("oldest").expect("one");
    std::fs::write(&o.path, b"\x1f\x8b garbage").expect("damage");
    let err = spool.oldest().expect_err("corrupt");
    assert!(
        err.to_string().contains(&o.path.display().to_string()),
        "{err}"
    );
    // Rejected batches move aside with their reason.
    let to = spool.reject(o.seq, "400: bad").expect("reject");
    assert!(to.exists());
    assert!(spool.is_empty());
}

#[test]
fn the_same_input_gives_the_same_batch_ids() {
    let a = ward_sensor::batches("s", "main", &[], ward_dissect::DissectOutput::default(), 10);
    let b = ward_sensor::batches("s", "main", &[], ward_dissect::DissectOutput::default(), 10);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].batch_id, b[0].batch_id);
    let other_sensor =
        ward_sensor::batches("t", "main", &[], ward_dissect::DissectOutput::default(), 10);
    assert_ne!(a[0].batch_id, other_sensor[0].batch_id);
    let later = ward_sensor::batches_at(
        "s",
        "main",
        &[],
        ward_dissect::DissectOutput::default(),
        10,
        77,
    );
    assert_ne!(
        a[0].batch_id, later[0].batch_id,
        "another window, another id"
    );
}

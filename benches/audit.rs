//! The audit join at scale: 10,000 findings against 10,000 inventory records (a third
//! matched by fingerprint, a third by key id, a third by vendor hint), with every category
//! evaluated. Run with `cargo bench --bench audit`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use sprawl::{
    audit::{audit, Exposure, Occurrence, Policy},
    finding::Fingerprint,
    inventory::{Hint, InventoryRecord, Status},
    rules::{
        template::{expand, Rng},
        Kind, Severity,
    },
};

const N: usize = 10_000;
const NOW: i64 = 1_750_000_000;

fn data() -> (Vec<Exposure>, Vec<InventoryRecord>) {
    let mut rng = Rng::new(7);
    let mut exposures = Vec::with_capacity(N);
    let mut records = Vec::with_capacity(N);
    for i in 0..N {
        let secret = expand("sk-proj-{{b64url:74}}T3BlbkFJ{{b64url:74}}", &mut rng);
        let fp = Fingerprint::of(secret.as_bytes());
        let key_id = format!("AKIA{:016}", i);
        let mut r = InventoryRecord {
            id: format!("rec-{i}"),
            provider: Some("openai".into()),
            owner: (i % 7 != 0).then(|| format!("owner{}@example.com", i % 50)),
            status: if i % 11 == 0 {
                Status::Revoked
            } else {
                Status::Active
            },
            created_at: Some(NOW - (i as i64 % 800) * 86_400),
            last_used_at: Some(NOW - (i as i64 % 200) * 86_400),
            usage_known: true,
            scope: if i % 5 == 0 {
                vec!["services/**".into()]
            } else {
                vec![]
            },
            format: "native-json",
            source: format!("bench#{i}"),
            ..InventoryRecord::default()
        };
        match i % 3 {
            0 => r.fingerprint = Some(fp),
            1 => r.key_id = Some(key_id.clone()),
            _ => {
                r.hint = Some(Hint {
                    prefix: secret[..11].to_string(),
                    suffix: secret[secret.len() - 4..].to_string(),
                })
            }
        }
        records.push(r);
        exposures.push(Exposure {
            fingerprint: fp,
            rule: "openai.project-key".into(),
            title: "OpenAI project API key".into(),
            provider: "openai".into(),
            kind: Kind::ApiKey,
            severity: Severity::High,
            redacted: format!("sk-proj-…{}", &secret[secret.len() - 4..]),
            hint: sprawl::inventory::hint::vendor_hint("openai", secret.as_bytes()),
            key_id: (i % 3 == 1).then_some(key_id),
            revoke: None,
            codeowners: Vec::new(),
            validation: None,
            expiry: None,
            lifetime: None,
            occurrences: (0..(1 + i % 3))
                .map(|j| Occurrence {
                    origin: format!("repo{}", (i + j) % 40),
                    path: format!("src/mod{}/file{j}.py", i % 100),
                    line: (i % 500) as u64 + 1,
                    source: "file".into(),
                    commit: None,
                    author: None,
                    email: None,
                    date: None,
                })
                .collect(),
        });
    }
    (exposures, records)
}

fn bench(c: &mut Criterion) {
    let (exposures, records) = data();
    let policy = Policy::default();
    let t = std::time::Instant::now();
    let a = audit(exposures.clone(), records.clone(), None, &policy, NOW);
    let matched = a.credentials.iter().filter(|c| c.record.is_some()).count();
    eprintln!(
        "audit of {N} findings x {N} records: {:?} once, {matched} matched",
        t.elapsed()
    );
    let mut g = c.benchmark_group("audit");
    g.sample_size(10);
    g.bench_function("10k_findings_x_10k_records", |b| {
        b.iter(|| {
            black_box(audit(
                black_box(exposures.clone()),
                records.clone(),
                None,
                &policy,
                NOW,
            ))
            .credentials
            .len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

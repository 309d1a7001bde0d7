//! Memory in proportion to the input (issue 11 item 11): a large inventory, CODEOWNERS file and
//! notebook are parsed on a thread of their own, and the bytes that thread holds at its peak
//! (counted by the allocator below) stay within a small multiple of the input's size. Before
//! the fix a 1M-row CSV took 29 times its size and a CODEOWNERS file 355 times.

use std::{
    alloc::{GlobalAlloc, Layout, System},
    cell::Cell,
};

/// The system allocator, counting per thread the bytes allocated and not yet freed (a block
/// freed on another thread is subtracted there: the tests below free on their own thread).
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn add(n: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + n;
        live.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            add(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        add(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new) };
        if !p.is_null() {
            add(new as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Peak bytes held by `f`, run on a fresh thread, above what the thread held at its start.
fn peak_of<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> (usize, T) {
    std::thread::spawn(move || {
        let base = LIVE.with(Cell::get);
        PEAK.with(|p| p.set(base));
        let out = f();
        ((PEAK.with(Cell::get) - base).max(0) as usize, out)
    })
    .join()
    .unwrap()
}

/// Print the figure (seen with `--nocapture`) and check it.
fn within(what: &str, peak: usize, size: usize, times: usize) {
    let ratio = peak as f64 / size as f64;
    eprintln!("{what}: {size} bytes in, {peak} bytes at the peak ({ratio:.1}×)");
    assert!(
        peak <= times * size,
        "{what}: {ratio:.1}× its size, more than {times}×"
    );
}

fn fingerprint(i: usize) -> String {
    use sha2::Digest;
    format!(
        "sha256:{}",
        hex::encode(sha2::Sha256::digest(i.to_le_bytes()))
    )
}

#[test]
fn a_large_register_is_held_in_a_small_multiple_of_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("register.csv");
    let mut csv = String::from(
        "id,name,provider,fingerprint,hint,owner,team,purpose,environment,scope,status,created_at,expires_at,last_used_at,review_due\n",
    );
    let rows = 20_000;
    for i in 0..rows {
        csv.push_str(&format!(
            "key-{i},integration {i},openai,{},sk-...{:04},user{}@corp.example,team-{},pilot {},prod,repo-{}/**,active,2024-01-15,2026-06-15,2025-11-02,2026-03-01\n",
            fingerprint(i),
            i % 10_000,
            i % 5000,
            i % 40,
            i % 300,
            i % 100
        ));
    }
    std::fs::write(&path, &csv).unwrap();
    let size = csv.len();
    drop(csv);
    let (peak, (records, errors)) = peak_of(move || {
        let mut out = sprawl::inventory::Import::default();
        sprawl::inventory::load(&path, None, &mut out).unwrap();
        (out.records.len(), out.errors)
    });
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(records, rows);
    within("register CSV", peak, size, 8);
}

#[test]
fn a_large_codeowners_is_held_in_a_small_multiple_of_its_size() {
    let mut text = String::new();
    for i in 0..100_000 {
        text.push_str(&format!(
            "/services/svc{i}/**/*.rs @org/team-{} owner{i}@corp.example\n",
            i % 50
        ));
    }
    let size = text.len();
    let (peak, owners) = peak_of(move || {
        let co = sprawl::codeowners::CodeOwners::parse(&text);
        co.owners("services/svc99999/src/main.rs")
    });
    assert_eq!(owners, ["@org/team-49", "owner99999@corp.example"]);
    within("CODEOWNERS", peak, size, 6);
}

#[test]
fn a_large_notebook_is_held_in_a_small_multiple_of_its_size() {
    let cells: Vec<String> = (0..30_000)
        .map(|i| {
            format!(
                r#"{{"cell_type": "code", "metadata": {{}}, "outputs": [], "source": ["x_{i} = {i}\n", "print(x_{i})\n"]}}"#
            )
        })
        .collect();
    let nb = format!(
        r#"{{"cells": [{}], "metadata": {{}}, "nbformat": 4, "nbformat_minor": 5}}"#,
        cells.join(",\n")
    );
    let size = nb.len();
    let (peak, parsed) =
        peak_of(move || sprawl::source::notebook::parse(nb.as_bytes()).map(|c| c.len()));
    assert!(parsed.unwrap() >= 30_000);
    within("notebook", peak, size, 8);
}

//! Reading and scanning blobs: from the packs along their delta trees, or by id through
//! libgit2, whole or streamed when large.

use super::*;

/// The result of scanning one blob (its findings' paths are those it was scanned at: none
/// for a blob read from a pack, whose content alone decides what it holds).
#[derive(Debug, Default, Clone)]
pub struct BlobResult {
    pub bytes: u64,
    pub binary: bool,
    pub too_large: bool,
    pub allowed: u64,
    pub findings: Vec<Finding>,
    pub error: Option<String>,
}

/// What a history scan shares with the rest of the run: blobs scanned for earlier
/// repositories (with findings, and clean), what a store recalls of this repository, and
/// where the blobs read for it go (for the store).
pub(super) struct History<'a> {
    pub(super) scanned: &'a mut OidMap<Vec<Finding>>,
    pub(super) scanned_clean: &'a mut OidSet,
    pub(super) known: &'a OidMap<ScannedBlob>,
    pub(super) read: &'a mut Vec<ScannedBlob>,
    /// Set to every blob reached, when the walk was complete and alone (see `Learned`).
    pub(super) reached: &'a mut Option<Vec<Oid>>,
}

/// Scan one blob: whole when it is at most `max` bytes, else streamed in windows like a
/// large file (a notebook, which cannot be, is skipped and reported).
pub(super) fn scan_blob(
    repo: &Repository,
    odb: &Odb<'_>,
    matcher: &Matcher,
    scratch: &mut Scratch,
    oid: Oid,
    path: &str,
    max: u64,
) -> BlobResult {
    let mut r = BlobResult::default();
    let size = match odb.read_header(oid) {
        Ok((size, ObjectType::Blob)) => size as u64,
        Ok((_, kind)) => {
            r.error = Some(format!("{path}: object {oid} is a {kind}, not a blob"));
            return r;
        }
        Err(e) => {
            r.error = Some(format!(
                "{path}: blob {oid} cannot be read: {}",
                e.message()
            ));
            return r;
        }
    };
    let prov = Provenance::file(SourceKind::Git, path);
    let mut out = ScanOutcome::default();
    if size > max {
        if path.to_ascii_lowercase().ends_with(".ipynb") {
            r.too_large = true;
            r.error = Some(format!(
                "{path}: blob {oid} is a notebook of {size} bytes, over --max-file-size \
                 ({max} bytes); notebooks cannot be streamed, so it was not scanned"
            ));
            return r;
        }
        let mut reader = match git::read::stream(repo, odb, oid) {
            Ok(s) => s,
            Err(e) => {
                r.error = Some(format!(
                    "{path}: blob {oid} cannot be read: {}",
                    e.message()
                ));
                return r;
            }
        };
        let mut head = vec![0u8; 8192];
        let n = read_up_to(&mut reader, &mut head);
        head.truncate(n);
        if looks_binary(&head) {
            r.bytes = size;
            r.binary = true;
            return r;
        }
        let chained = std::io::Read::chain(&head[..], reader);
        if let Err(e) = scan_stream(matcher, chained, &prov, scratch, &mut out) {
            r.error = Some(format!(
                "{path}: blob {oid} stopped reading after {} bytes: {e}",
                out.stats.bytes
            ));
        }
        r.bytes = out.stats.bytes;
    } else {
        let blob = match repo.find_blob(oid) {
            Ok(b) => b,
            Err(e) => {
                r.error = Some(format!(
                    "{path}: blob {oid} cannot be read: {}",
                    e.message()
                ));
                return r;
            }
        };
        return scan_loaded(matcher, scratch, oid, blob.content(), path, max);
    }
    r.allowed = out.stats.allowed;
    r.findings = out.findings;
    r
}

/// Scan a blob whose content is in memory, as [`scan_blob`] would: whole when it is at most
/// `max` bytes, else window by window (so the findings are the same either way).
pub(super) fn scan_loaded(
    matcher: &Matcher,
    scratch: &mut Scratch,
    oid: Oid,
    bytes: &[u8],
    path: &str,
    max: u64,
) -> BlobResult {
    let mut r = BlobResult {
        bytes: bytes.len() as u64,
        ..BlobResult::default()
    };
    let large = bytes.len() as u64 > max;
    if large && path.to_ascii_lowercase().ends_with(".ipynb") {
        r.too_large = true;
        r.error = Some(format!(
            "{path}: blob {oid} is a notebook of {} bytes, over --max-file-size \
             ({max} bytes); notebooks cannot be streamed, so it was not scanned",
            bytes.len()
        ));
        return r;
    }
    if looks_binary(bytes) {
        r.binary = true;
        return r;
    }
    let prov = Provenance::file(SourceKind::Git, path);
    let mut out = ScanOutcome::default();
    if large {
        // Reading a slice cannot fail.
        let _ = scan_stream(matcher, bytes, &prov, scratch, &mut out);
    } else {
        scan_content(matcher, bytes, &prov, scratch, &mut out);
    }
    r.allowed = out.stats.allowed;
    r.findings = out.findings;
    r
}

/// Fill `buf` from `reader` as far as it goes; the bytes read.
pub(super) fn read_up_to(reader: &mut dyn std::io::Read, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    n
}

/// A blob the walk met, on its way to a scanner.
pub(super) struct BlobJob {
    pub(super) oid: Oid,
    pub(super) commit: Option<u32>,
    pub(super) path: String,
}

/// Scan blobs by id through libgit2, on `threads` workers (each with its own repository):
/// for objects the pack reader did not deliver (loose objects, notebooks, anything it could
/// not read), and for everything when the packs cannot be read at all.
pub(super) fn scan_by_id(
    matcher: &Matcher,
    opts: &GitScanOptions,
    repo_path: &Path,
    jobs: Vec<BlobJob>,
    progress: &Progress,
) -> Vec<(BlobJob, BlobResult)> {
    if jobs.is_empty() {
        return Vec::new();
    }
    let threads = opts.threads.max(1).min(jobs.len().div_ceil(64));
    let (tx, rx) = crossbeam_channel::bounded::<Vec<BlobJob>>(64);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let rx = rx.clone();
                scope.spawn(move || {
                    let mut done: Vec<(BlobJob, BlobResult)> = Vec::new();
                    let local = Repository::open(repo_path).map_err(|e| e.message().to_string());
                    let odb = match &local {
                        Ok(r) => r.odb().map_err(|e| e.message().to_string()),
                        Err(e) => Err(e.clone()),
                    };
                    let mut scratch = Scratch::default();
                    for batch in rx {
                        for job in batch {
                            let r = match (&local, &odb) {
                                (Ok(repo), Ok(odb)) => scan_blob(
                                    repo,
                                    odb,
                                    matcher,
                                    &mut scratch,
                                    job.oid,
                                    &job.path,
                                    opts.max_file_size,
                                ),
                                (_, Err(e)) | (Err(e), _) => BlobResult {
                                    error: Some(format!("opening a worker's repository: {e}")),
                                    ..BlobResult::default()
                                },
                            };
                            progress.item(r.bytes);
                            done.push((job, r));
                        }
                    }
                    done
                })
            })
            .collect();
        drop(rx);
        let mut jobs = jobs.into_iter().peekable();
        while jobs.peek().is_some() {
            let _ = tx.send(jobs.by_ref().take(64).collect());
        }
        drop(tx);
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    })
}

pub(super) fn is_notebook(path: &str) -> bool {
    path.to_ascii_lowercase().ends_with(".ipynb")
}

/// Read every wanted blob of the repository's packs along their delta trees on `threads`
/// threads, scanning each as it is resolved (its content is dropped right after), without
/// its path: what a blob holds depends only on its content, except for notebooks, which
/// the caller rescans by id with their path.
pub(super) fn scan_packs(
    matcher: &Matcher,
    opts: &GitScanOptions,
    objects: &Path,
    want: &(dyn Fn(Oid) -> bool + Sync),
    progress: &Progress,
) -> (OidMap<BlobResult>, git::pack::PackRead) {
    let threads = opts.threads.max(1);
    let packs = git::pack::pack_files(objects);
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("sprawl-pack-{i}"))
        .build()
    {
        Ok(p) if !packs.is_empty() => p,
        _ => return (OidMap::default(), git::pack::PackRead::default()),
    };
    let scratch: Vec<Mutex<Scratch>> = (0..threads).map(|_| Mutex::default()).collect();
    let results: Mutex<OidMap<BlobResult>> = Mutex::default();
    let visit = |oid: Oid, bytes: &[u8]| {
        let slot = rayon::current_thread_index().unwrap_or(0) % threads;
        let mut scratch = scratch[slot].lock().unwrap_or_else(|p| p.into_inner());
        let r = scan_loaded(matcher, &mut scratch, oid, bytes, "", opts.max_file_size);
        drop(scratch);
        progress.item(r.bytes);
        results
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(oid, r);
    };
    let read = git::pack::read_blobs(&packs, &pool, want, &visit);
    (
        results.into_inner().unwrap_or_else(|p| p.into_inner()),
        read,
    )
}

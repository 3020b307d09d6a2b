//! Independent tasks on two threads: what runs after a scan (rules, summaries) is a set
//! of pure functions over the same read-only data, and the second core is idle by then.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `f(0) … f(n - 1)` on this thread and one more, each task taken by whichever thread is
/// free; results in task order. On one thread when a second cannot be started.
pub(crate) fn map<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    if n < 2 {
        return (0..n).map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                return done;
            }
            done.push((i, f(i)));
        }
    };
    let (theirs, mut all) = beside(work, work);
    all.extend(theirs);
    all.sort_unstable_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, t)| t).collect()
}

/// `side` on a second thread while `main` runs on this one; both results. On one thread
/// when a second cannot be started.
pub(crate) fn beside<A: Send, B>(
    side: impl FnOnce() -> A + Send,
    main: impl FnOnce() -> B,
) -> (A, B) {
    let slot = std::sync::Mutex::new(Some(side));
    let run = || {
        let f = slot.lock().ok().and_then(|mut s| s.take());
        f.map(|f| f())
    };
    std::thread::scope(|s| {
        let helper = std::thread::Builder::new()
            .name("sipdiag-helper".into())
            .spawn_scoped(s, run);
        let b = main();
        let a = match helper {
            Ok(h) => h
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => None,
        };
        (a.or_else(run).expect("the side task runs once"), b)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn beside_returns_both() {
        let v = [1, 2, 3];
        let (a, b) = super::beside(|| v.iter().sum::<i32>(), || v.len());
        assert_eq!((a, b), (6, 3));
    }

    #[test]
    fn results_come_in_task_order() {
        for n in [0, 1, 2, 3, 50] {
            let got = super::map(n, |i| {
                // Uneven task lengths, so that the threads interleave.
                std::thread::sleep(std::time::Duration::from_micros((i % 3) as u64 * 200));
                i * 10
            });
            assert_eq!(got, (0..n).map(|i| i * 10).collect::<Vec<_>>());
        }
    }
}

//! The embedded transport: producers, workers and the sink in one process,
//! joined by bounded channels (the "topics"). Runs anywhere, no broker.

use crossbeam_channel::bounded;

use super::pipeline::{self, Clock, Decoder, Feed, Msg, Routed};
use super::{BenchConfig, BenchError, Outcome};

/// Messages the input topic holds at most (~50 KB each: ~13 MB).
pub(crate) const INPUT_CAPACITY: usize = 256;
/// Routed alerts in flight to the sink at most.
pub(crate) const OUTPUT_CAPACITY: usize = 1024;

pub(crate) fn run(
    cfg: &BenchConfig,
    feed: &Feed,
    decoder: &Decoder,
) -> Result<Outcome, BenchError> {
    let clock = Clock::new();
    let bar = super::progress_bar(cfg);
    let (in_tx, in_rx) = bounded::<Msg>(INPUT_CAPACITY);
    let (out_tx, out_rx) = bounded::<(Routed, Msg)>(OUTPUT_CAPACITY);
    let (produced, times, (ledger, stats)) = std::thread::scope(|s| {
        // The sink reads the output topics; payloads are dropped once counted.
        let sink =
            s.spawn(|| pipeline::sink(out_rx.iter().map(|(routed, _msg)| routed), &clock, &bar));
        let workers: Vec<_> = (0..cfg.workers.max(1))
            .map(|_| {
                let (rx, tx) = (in_rx.clone(), out_tx.clone());
                s.spawn(move || {
                    pipeline::work(&rx, decoder, &|routed, msg| {
                        pipeline::send(&tx, (routed, msg))
                    })
                })
            })
            .collect();
        drop((in_rx, out_tx));
        let produced = pipeline::produce(
            feed,
            &cfg.load,
            cfg.producers,
            &clock,
            &|candid, payload, ns| {
                let msg = Msg {
                    payload: payload.into_owned(),
                    produced_ns: ns,
                    candid: Some(candid),
                    topic: None,
                };
                pipeline::send(&in_tx, msg)
            },
        );
        drop(in_tx);
        let mut times = Vec::new();
        for w in workers {
            times.push(w.join().map_err(|_| BenchError::Panic("worker"))?);
        }
        let counted = sink.join().map_err(|_| BenchError::Panic("sink"))?;
        let times: Result<Vec<_>, BenchError> = times.into_iter().collect();
        Ok::<_, BenchError>((produced?, pipeline::total(times?), counted))
    })?;
    bar.finish_and_clear();
    Ok(Outcome {
        produced,
        ledger,
        stats,
        workers: times,
        elapsed: clock.elapsed(),
    })
}

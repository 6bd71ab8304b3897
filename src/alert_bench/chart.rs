//! `--chart FILE.svg`: routed alerts per second over the run, and the latency
//! distribution, drawn from a [`Report`] (so a chart can be redrawn from any
//! saved report).

use std::path::Path;

use plotters::prelude::*;

use super::BenchError;
use super::report::Report;

/// Draw the chart of `report` into `path` (SVG, written atomically).
pub(crate) fn write_chart(report: &Report, path: &Path) -> Result<(), BenchError> {
    let svg = render(report).map_err(|message| BenchError::Chart {
        path: path.to_path_buf(),
        message,
    })?;
    crate::fsutil::write_atomic(path, svg.as_bytes()).map_err(|source| BenchError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn render(r: &Report) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (left, right) = root.split_horizontally(480);
        let t = &r.throughput;
        let points: Vec<(f64, f64)> = t
            .timeline
            .iter()
            .enumerate()
            .map(|(i, v)| ((i as f64 + 0.5) * t.interval_sec, *v))
            .collect();
        let x_max = (points.len() as f64 * t.interval_sec).max(0.1);
        let y_max = points.iter().map(|p| p.1).fold(1.0, f64::max) * 1.1;
        let mut chart = ChartBuilder::on(&left)
            .caption("throughput (alerts/s)", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("time (s)")
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new(points, &BLUE))
            .map_err(|e| e.to_string())?;

        let curve: Vec<(f64, f64)> = r.latency_ms.curve.iter().map(|p| (p[0], p[1])).collect();
        let y_max = curve.iter().map(|p| p.1).fold(0.001, f64::max) * 1.1;
        let mut chart = ChartBuilder::on(&right)
            .caption("latency distribution (ms)", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..100.0, 0.0..y_max)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("percentile")
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new(curve, &RED))
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

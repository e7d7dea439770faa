import Foundation
import PurserCore
import PurserStatistics

/// 13. Drift detection, by simulation: how often `metrics drift` flags a quality that declines 2% a week
/// (power), and how often it flags one that does not move (false alarms), per window, for daily means with
/// a day-to-day noise of 3% of the mean (about what 20 to 50 sampled evaluations a day give). Each series is
/// judged as `metrics drift` judges one: Mann-Kendall p < 0.05 and Sen's slope in the bad direction.
func benchmarkDrift() {
    let runs = 2_000
    var generator = SeededGenerator(seed: 2026)
    func normal() -> Double {
        let u = max(generator.uniform(), 1e-300)
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * generator.uniform())
    }
    func flaggedShare(days: Int, declinePerWeek: Double) -> Double {
        var flagged = 0
        for _ in 0..<runs {
            let series = (0..<days).map { day in
                0.85 * (1 - declinePerWeek * Double(day) / 7) + 0.03 * 0.85 * normal()
            }
            if let test = MannKendall(series), test.p < CanaryJudge.alpha, test.slope < 0 { flagged += 1 }
        }
        return Double(flagged) / Double(runs)
    }
    for days in [7, 14, 28, 56] {
        let power = flaggedShare(days: days, declinePerWeek: 0.02)
        let falseAlarms = flaggedShare(days: days, declinePerWeek: 0)
        report(
            "drift, \(days)-day window, daily noise 3%", "power \(format(100 * power))%",
            target: "false alarms \(String(format: "%.1f", 100 * falseAlarms))% (\(runs) series each)")
    }
}

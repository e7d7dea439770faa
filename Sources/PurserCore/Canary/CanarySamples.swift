extension CanarySamples {
    /// The samples of the baseline and the canary (`versions`, ids, in that order) in `env`: the tasks started at
    /// or after `since` in `tasks` (the stored ones, or the rebuild `verify` makes), and with `before` only those of
    /// ingestions before that seq (what the ledger held when a judgement was made). Read one version at a time,
    /// as the means are summed.
    static func read(
        _ tasks: some TaskTables, env: String, versions: [String], since: String, before seq: UInt64? = nil,
        metrics: [CanaryConfig.Metric]
    ) throws -> CanarySamples {
        var samples = CanarySamples(metrics: metrics)
        for (arm, version) in versions.prefix(2).enumerated() {
            try tasks.forEachTask(
                version: version, env: env, since: since, before: seq ?? UInt64(Int64.max), columns: samples.columns
            ) { row in samples.add(row, arm: arm) }
        }
        return samples
    }

    /// The judgement of these samples under `config` at level `alpha` (the level of the look, §15.7): what
    /// `canary judge` records, and what `verify` recomputes from the entries to compare with it.
    func judge(
        _ config: CanaryConfig, alpha: Double
    ) -> (metrics: [MetricJudgement], score: Double, verdict: CanaryVerdict) {
        let judgements = config.metrics.map { CanaryJudge.judge($0, metric($0), alpha: alpha) }
        let (score, verdict) = CanaryJudge.verdict(judgements, config: config)
        return (judgements, score, verdict)
    }
}

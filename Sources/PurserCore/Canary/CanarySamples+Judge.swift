internal import PurserLedger

extension CanarySamples {
    /// The samples of the baseline and the canary (`versions`, ids, in that order) in `env`: the tasks started at
    /// or after `since`, in the `tasks` table of `schema` (`main`, or `temp` for the rebuild `verify` makes), and
    /// with `before` only the rows of ingestions before that seq (what the ledger held when a judgement was made).
    /// Read one version at a time in the table's order, as the means are summed: the tasks of a version in `env`
    /// are one range of it.
    static func read(
        _ connection: Connection, schema: String = "main", env: String, versions: [String], since: String,
        before seq: UInt64? = nil, metrics: [CanaryConfig.Metric]
    ) throws -> CanarySamples {
        var samples = CanarySamples(metrics: metrics)
        let select = try connection.prepare(
            """
            SELECT \(samples.columns.isEmpty ? "NULL" : samples.columns.joined(separator: ", "))
            FROM \(schema).tasks
            WHERE version = (SELECT seq FROM \(schema).versions WHERE id = ?) AND env = ? AND seq < ?
                AND started_at >= ?
            """)
        for (arm, version) in versions.prefix(2).enumerated() {
            try select.bind(1, version)
            try select.bind(2, env)
            try select.bind(3, Int64(clamping: seq ?? UInt64(Int64.max)))
            try select.bind(4, since)
            while try select.step() { samples.add(select, arm: arm) }
            select.reset()
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

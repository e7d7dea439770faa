import Foundation
import PurserLedger
import Testing

@Suite struct CanaryMethodCommandTests {
    @Test("a configuration whose sample size can never reach significance is refused with 65, writing nothing")
    func unreachableSampleSizeIsRefused() throws {
        let workspace = Workspace()
        try workspace.startCanaryRollout()
        workspace.write(
            "canary.yaml",
            """
            steps: [10, 100]
            min-sample-size: 2
            metrics:
              - {name: error_rate, statistic: rate, bad: increase, critical: true}
              - {name: quality, statistic: mean, bad: decrease, max-relative-change: 0.05}
            scoring: {pass: 0.9, marginal: 0.5}
            auto-rollback: true
            """)
        let before = workspace.ledgerSnapshot()
        let judged = try workspace.run(["canary", "judge", "--env", "prod", "--config", "canary.yaml"])
        #expect(judged.status == 65, "\(judged.stderr)")
        #expect(judged.stderr.contains("error_rate") && judged.stderr.contains("at least 4"), "\(judged.stderr)")
        #expect(!judged.stderr.contains("quality"), "a mean can be judged on 2 tasks a side")
        #expect(workspace.ledgerSnapshot() == before)
    }
}

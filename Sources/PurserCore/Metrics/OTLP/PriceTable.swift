internal import Foundation
public import PurserLedger

/// Model prices, for the cost of agent tasks assembled from OpenTelemetry traces whose spans carry no
/// `purser.cost_usd`: US dollars per million input and output tokens, per model (`templates/prices.yaml`).
/// The table is stored with each summary that used it, so that the cost is computed again from the same prices.
public struct PriceTable: Sendable, Equatable {
    public struct Price: Sendable, Equatable {
        /// US dollars per million tokens.
        public let input: Double
        public let output: Double
    }

    /// By model id, as spans name it (`gen_ai.response.model`, else `gen_ai.request.model`).
    public let models: [String: Price]

    /// Reads a price table: `models: {MODEL: {input: USD, output: USD}, …}`, per million tokens.
    /// - Throws: `.invalidInput` naming `source` and the field: an unknown field, a price that is not a number
    ///   at least 0, a table without models.
    public init(bytes: [UInt8], source: String) throws(LedgerError) {
        func invalid(_ field: String, _ problem: String) -> LedgerError {
            LedgerError(.invalidInput, "\(source): \(field): \(problem)")
        }
        guard case .object(let top) = try YAML.parse(bytes, source: source) else {
            throw LedgerError(.invalidInput, "\(source): expected a mapping with models")
        }
        for key in top.keys.sorted() where key != "models" { throw invalid(key, "unknown field (expected models)") }
        guard case .object(let entries) = top["models"] ?? .null, !entries.isEmpty else {
            throw invalid(
                "models", "expected a mapping of model ids to {input, output} in US dollars per million tokens")
        }
        var models: [String: Price] = [:]
        for (model, value) in entries {
            guard case .object(let fields) = value else {
                throw invalid("models.\(model)", "expected {input, output} in US dollars per million tokens")
            }
            for key in fields.keys.sorted() where key != "input" && key != "output" {
                throw invalid("models.\(model).\(key)", "unknown field (expected input, output)")
            }
            var prices: [Double] = []
            for key in ["input", "output"] {
                guard let price = fields[key]?.numberValue, price.isFinite, price >= 0 else {
                    throw invalid(
                        "models.\(model).\(key)", "expected US dollars per million tokens, a number at least 0")
                }
                prices.append(price)
            }
            models[model] = Price(input: prices[0], output: prices[1])
        }
        self.models = models
    }

    /// The cost of model calls, each with its model and token counts; nil when a call's model is not in the table
    /// or it lacks a token count: a cost is never guessed.
    func cost(_ calls: [(model: String?, input: Double?, output: Double?)]) -> Double? {
        guard !calls.isEmpty else { return nil }
        var total = 0.0
        for call in calls {
            guard let model = call.model, let price = models[model], let input = call.input, let output = call.output
            else { return nil }
            total += (input * price.input + output * price.output) / 1_000_000
        }
        return total
    }
}

/// A price table as a summary records it: the table and the file it came from, stored as an artifact beside the
/// summary's own file.
public struct PriceFile: Sendable {
    public let table: PriceTable
    public let file: InputFile

    /// Reads and checks the price table in `file`.
    public init(_ file: InputFile) throws(LedgerError) {
        table = try PriceTable(bytes: file.bytes, source: file.source)
        self.file = file
    }
}

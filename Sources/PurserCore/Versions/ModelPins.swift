public import PurserLedger

/// Whether a model component names an exact, immutable model: a dated snapshot, a numbered stable
/// version, a deployment without auto-upgrade, or a content digest. Aliases that the provider may move
/// (`gpt-4o`, `claude-3-5-sonnet-latest`, `gemini-1.5-pro`) are floating.
public enum ModelPins {
    /// The verdict for a model component's data (`provider`, `id`, and provider-specific fields).
    public static func judge(_ model: JSONValue) -> (pinned: Bool, reason: String) {
        let provider = model["provider"]?.stringValue?.lowercased() ?? ""
        let id = model["id"]?.stringValue ?? ""
        switch provider {
        case "openai":
            return id.wholeMatch(of: /.+-\d{4}-\d{2}-\d{2}/) != nil
                ? (true, "dated snapshot")
                : (false, "\(id) is an alias OpenAI may move; name a dated snapshot such as gpt-4o-2024-08-06")
        case "anthropic":
            return id.wholeMatch(of: /claude-.+-\d{8}/) != nil
                ? (true, "dated model id")
                : (false, "\(id) is an alias Anthropic may move; name a dated id such as claude-3-5-sonnet-20241022")
        case "google", "vertex-ai", "gemini":
            return id.wholeMatch(of: /.+-\d{3}/) != nil
                ? (true, "numbered stable version")
                : (false, "\(id) is a base name Google may move; name a stable version such as gemini-1.5-pro-002")
        case "azure-openai", "azure":
            let version = model["version"]?.stringValue ?? ""
            return !version.isEmpty && model["auto_upgrade"] == .bool(false)
                ? (true, "deployment with model version \(version) and auto-upgrade off")
                : (false, "an Azure deployment needs an explicit version: and auto_upgrade: false")
        case "self-hosted":
            if let digest = model["digest"]?.stringValue, digest.wholeMatch(of: /(sha256:)?[0-9a-f]{64}/) != nil {
                return (true, "content digest")
            }
            if let revision = model["revision"]?.stringValue, revision.wholeMatch(of: /[0-9a-f]{40}/) != nil {
                return (true, "immutable revision")
            }
            return (false, "a self-hosted model needs digest: sha256:<64 hex> or revision: <40-hex commit>")
        default:
            return (false, "unknown provider \"\(provider)\": its model ids cannot be judged")
        }
    }

    public static func isPinned(_ model: JSONValue) -> Bool { judge(model).pinned }
}

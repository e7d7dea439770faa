public import ArgumentParser
public import PurserCore

// `--env NAME`: a malformed name is refused with exit 64 and the rule ("The value 'Prod' is invalid for
// '--env <env>': must be 1 to 64 lowercase letters, …"). ArgumentParser reports the error `init?(argument:)`
// cannot carry only when an option parses with `transform: EnvironmentName.parse`, which every `--env` does.

extension EnvironmentName: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(argument) }

    /// `argument` as an environment name, or an error stating the rule.
    static func parse(_ argument: String) throws -> EnvironmentName {
        guard let name = EnvironmentName(argument: argument) else {
            throw ValidationError("must be \(EnvironmentName.rule) (e.g. prod)")
        }
        return name
    }
}

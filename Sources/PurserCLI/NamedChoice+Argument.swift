public import ArgumentParser
public import PurserCore
public import PurserOperations

// The typed inputs of the commands, parsed from their names: a name not in the list is refused with exit 64 and
// the allowed names ("The value 'big-bang' is invalid for '--strategy <strategy>'. Please provide one of
// 'blue-green', 'canary' or 'shadow'.").

extension Strategy: ExpressibleByArgument {}
extension DrillResult: ExpressibleByArgument {}
extension EvaluationFormat: ExpressibleByArgument {}
extension MetricsFormat: ExpressibleByArgument {}
extension TaskSpans: ExpressibleByArgument {}
extension MetricsDimension: ExpressibleByArgument {}
extension AuditFormat: ExpressibleByArgument {}
extension Role: ExpressibleByArgument {}

internal import Foundation

/// Line differences between two texts, as a unified diff that `patch` accepts.
///
/// Lines are compared byte for byte (two spellings of "é" are different lines), using Myers' O(ND) algorithm
/// in linear space, so two long prompts that differ in a few lines are compared in about the time it takes to
/// read them.
public enum TextDiff {
    /// The unified diff that turns `old` into `new`, or an empty string when they are the same bytes.
    ///
    /// - Parameters:
    ///   - old: The text before.
    ///   - new: The text after.
    ///   - oldName: The name on the `---` line.
    ///   - newName: The name on the `+++` line.
    ///   - context: How many unchanged lines to show around each change; hunks closer than twice this merge.
    /// - Returns: `--- oldName`, `+++ newName` and `@@ -l,s +l,s @@` hunks of ` `, `-` and `+` lines, with
    ///   `\ No newline at end of file` after a last line that has no newline.
    public static func unified(old: String, new: String, oldName: String, newName: String, context: Int = 3) -> String {
        let oldLines = Lines(old)
        let newLines = Lines(new)
        let (a, b) = Lines.number(oldLines, newLines)
        let (oldChanged, newChanged) = changes(a, b)
        let script = EditScript(oldChanged: oldChanged, newChanged: newChanged)
        guard script.hasChanges else { return "" }

        var output: [UInt8] = []
        output.reserveCapacity(4096)
        output.append(contentsOf: "--- \(oldName)\n+++ \(newName)\n".utf8)
        for hunk in script.hunks(context: max(context, 0)) {
            let ops = script.ops[hunk]
            let oldCount = ops.count(where: { $0.kind != .insert })
            let newCount = ops.count(where: { $0.kind != .delete })
            let first = ops[ops.startIndex]
            output.append(contentsOf: "@@ -\(range(first.old, oldCount)) +\(range(first.new, newCount)) @@\n".utf8)
            for op in ops {
                switch op.kind {
                case .equal:
                    output.append(UInt8(ascii: " "))
                    oldLines.write(op.old, into: &output)
                case .delete:
                    output.append(UInt8(ascii: "-"))
                    oldLines.write(op.old, into: &output)
                case .insert:
                    output.append(UInt8(ascii: "+"))
                    newLines.write(op.new, into: &output)
                }
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Which lines of `a` are deleted and which of `b` inserted by a shortest edit.
    ///
    /// A line that occurs in only one text is never part of a common subsequence, so it is marked at once and
    /// left out of the search (as GNU diff does); two texts that share few lines are then compared quickly.
    private static func changes(_ a: [Int], _ b: [Int]) -> (old: [Bool], new: [Bool]) {
        let numbers = (a.max() ?? -1) + 1
        var inA = Array(repeating: false, count: numbers)
        var inB = Array(repeating: false, count: numbers)
        for number in a { inA[number] = true }
        for number in b where number < numbers { inB[number] = true }
        let keptA = a.indices.filter { inB[a[$0]] }
        let keptB = b.indices.filter { b[$0] < numbers && inA[b[$0]] }
        var myers = Myers(a: keptA.map { a[$0] }, b: keptB.map { b[$0] })
        myers.compare(aLow: 0, aHigh: keptA.count, bLow: 0, bHigh: keptB.count)
        var old = Array(repeating: true, count: a.count)
        var new = Array(repeating: true, count: b.count)
        for (position, index) in keptA.enumerated() { old[index] = myers.oldChanged[position] }
        for (position, index) in keptB.enumerated() { new[index] = myers.newChanged[position] }
        return (old, new)
    }

    /// A hunk range: `start,count`, 1-based; `start` alone when the count is 1; the line before when it is 0.
    private static func range(_ position: Int, _ count: Int) -> String {
        switch count {
        case 0: "\(position),0"
        case 1: "\(position + 1)"
        default: "\(position + 1),\(count)"
        }
    }
}

/// A text cut into lines; each line keeps its newline, so a last line without one differs from the same text
/// with one.
private struct Lines {
    let bytes: [UInt8]
    let ranges: [Range<Int>]

    init(_ text: String) {
        bytes = Array(text.utf8)
        var ranges: [Range<Int>] = []
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var start = 0
            while start < buffer.count {
                guard let newline = memchr(base + start, 0x0A, buffer.count - start) else {
                    ranges.append(start..<buffer.count)
                    break
                }
                let end = UnsafeRawPointer(base).distance(to: newline) + 1
                ranges.append(start..<end)
                start = end
            }
        }
        self.ranges = ranges
    }

    /// Numbers the lines of both texts so that equal lines, and only those, get equal numbers.
    static func number(_ old: Lines, _ new: Lines) -> (old: [Int], new: [Int]) {
        old.bytes.withUnsafeBytes { oldBytes in
            new.bytes.withUnsafeBytes { newBytes in
                var numbers: [Line: Int] = [:]
                numbers.reserveCapacity(old.ranges.count + new.ranges.count)
                func number(_ line: Line) -> Int {
                    if let number = numbers[line] { return number }
                    numbers[line] = numbers.count
                    return numbers.count - 1
                }
                return (
                    old.ranges.map { number(Line(bytes: UnsafeRawBufferPointer(rebasing: oldBytes[$0]))) },
                    new.ranges.map { number(Line(bytes: UnsafeRawBufferPointer(rebasing: newBytes[$0]))) }
                )
            }
        }
    }

    /// A line's bytes, hashed and compared as bytes, in one call each rather than byte by byte.
    private struct Line: Hashable {
        let bytes: UnsafeRawBufferPointer

        func hash(into hasher: inout Hasher) {
            hasher.combine(bytes: bytes)
        }

        static func == (lhs: Line, rhs: Line) -> Bool {
            guard lhs.bytes.count == rhs.bytes.count else { return false }
            guard let left = lhs.bytes.baseAddress, let right = rhs.bytes.baseAddress else { return true }
            return memcmp(left, right, lhs.bytes.count) == 0
        }
    }

    /// Appends line `index` and its newline, or a newline and the marker `patch` expects if it has none.
    func write(_ index: Int, into output: inout [UInt8]) {
        let range = ranges[index]
        output.append(contentsOf: bytes[range])
        if range.isEmpty || bytes[range.upperBound - 1] != UInt8(ascii: "\n") {
            output.append(contentsOf: "\n\\ No newline at end of file\n".utf8)
        }
    }
}

/// Myers' algorithm with the linear-space refinement ("An O(ND) Difference Algorithm and Its Variations",
/// 1986, section 4b): find the middle snake of an optimal path, then solve the two halves on either side.
private struct Myers {
    let a: [Int]
    let b: [Int]
    var oldChanged: [Bool]
    var newChanged: [Bool]
    /// Furthest-reaching x on each diagonal, forward and backward, shared by all calls; `offset` is diagonal 0.
    private var forward: [Int]
    private var backward: [Int]
    private let offset: Int

    init(a: [Int], b: [Int]) {
        self.a = a
        self.b = b
        oldChanged = Array(repeating: false, count: a.count)
        newChanged = Array(repeating: false, count: b.count)
        offset = (a.count + b.count + 1) / 2 + 1
        forward = Array(repeating: 0, count: 2 * offset + 1)
        backward = Array(repeating: 0, count: 2 * offset + 1)
    }

    mutating func compare(aLow: Int, aHigh: Int, bLow: Int, bHigh: Int) {
        var aLow = aLow
        var bLow = bLow
        var aHigh = aHigh
        var bHigh = bHigh
        while aLow < aHigh && bLow < bHigh && a[aLow] == b[bLow] {
            aLow += 1
            bLow += 1
        }
        while aLow < aHigh && bLow < bHigh && a[aHigh - 1] == b[bHigh - 1] {
            aHigh -= 1
            bHigh -= 1
        }
        if aLow == aHigh {
            for index in bLow..<bHigh { newChanged[index] = true }
            return
        }
        if bLow == bHigh {
            for index in aLow..<aHigh { oldChanged[index] = true }
            return
        }
        let (before, after) = middleSnake(aLow: aLow, aHigh: aHigh, bLow: bLow, bHigh: bHigh)
        compare(aLow: aLow, aHigh: before.x, bLow: bLow, bHigh: before.y)
        compare(aLow: after.x, aHigh: aHigh, bLow: after.y, bHigh: bHigh)
    }

    /// The start and end of a snake (a run of equal lines) in the middle of an optimal path from
    /// (aLow, bLow) to (aHigh, bHigh). Both halves around it need fewer edits than the whole, so the
    /// recursion ends. The boxes are trimmed, so the first and last lines differ and at least two edits are
    /// needed.
    private mutating func middleSnake(
        aLow: Int, aHigh: Int, bLow: Int, bHigh: Int
    ) -> (before: (x: Int, y: Int), after: (x: Int, y: Int)) {
        let n = aHigh - aLow
        let m = bHigh - bLow
        let delta = n - m
        let odd = delta & 1 != 0
        let limit = (n + m + 1) / 2
        forward[offset + 1] = 0
        backward[offset + 1] = 0
        for d in 0...limit {
            for k in stride(from: -d, through: d, by: 2) {
                var x =
                    k == -d || (k != d && forward[offset + k - 1] < forward[offset + k + 1])
                    ? forward[offset + k + 1] : forward[offset + k - 1] + 1
                var y = x - k
                let start = (x: x, y: y)
                while x < n && y < m && a[aLow + x] == b[bLow + y] {
                    x += 1
                    y += 1
                }
                forward[offset + k] = x
                if odd && abs(delta - k) <= d - 1 && x + backward[offset + delta - k] >= n {
                    return ((aLow + start.x, bLow + start.y), (aLow + x, bLow + y))
                }
            }
            for k in stride(from: -d, through: d, by: 2) {
                var x =
                    k == -d || (k != d && backward[offset + k - 1] < backward[offset + k + 1])
                    ? backward[offset + k + 1] : backward[offset + k - 1] + 1
                var y = x - k
                let start = (x: x, y: y)
                while x < n && y < m && a[aHigh - 1 - x] == b[bHigh - 1 - y] {
                    x += 1
                    y += 1
                }
                backward[offset + k] = x
                if !odd && abs(delta - k) <= d && x + forward[offset + delta - k] >= n {
                    return ((aHigh - x, bHigh - y), (aHigh - start.x, bHigh - start.y))
                }
            }
        }
        preconditionFailure("Myers: the forward and backward paths must meet within (n + m + 1) / 2 steps")
    }
}

/// The edits in order, and the hunks that show them with context.
private struct EditScript {
    enum Kind { case equal, delete, insert }

    struct Op {
        let kind: Kind
        /// The position in the old text: the line for `.equal` and `.delete`, the line before for `.insert`.
        let old: Int
        /// The position in the new text: the line for `.equal` and `.insert`, the line before for `.delete`.
        let new: Int
    }

    let ops: [Op]
    let hasChanges: Bool

    init(oldChanged: [Bool], newChanged: [Bool]) {
        var ops: [Op] = []
        ops.reserveCapacity(max(oldChanged.count, newChanged.count))
        var old = 0
        var new = 0
        // Unchanged lines pair up in order; within a change, deletions come before insertions.
        while old < oldChanged.count || new < newChanged.count {
            if old < oldChanged.count && oldChanged[old] {
                ops.append(Op(kind: .delete, old: old, new: new))
                old += 1
            } else if new < newChanged.count && newChanged[new] {
                ops.append(Op(kind: .insert, old: old, new: new))
                new += 1
            } else {
                ops.append(Op(kind: .equal, old: old, new: new))
                old += 1
                new += 1
            }
        }
        self.ops = ops
        hasChanges = ops.contains { $0.kind != .equal }
    }

    /// Ranges of `ops`, each a run of changes with up to `context` unchanged lines on either side; changes
    /// separated by at most twice `context` unchanged lines share a hunk.
    func hunks(context: Int) -> [Range<Int>] {
        var hunks: [Range<Int>] = []
        var index = 0
        while let change = ops[index...].firstIndex(where: { $0.kind != .equal }) {
            let start = max(change - context, hunks.last?.upperBound ?? 0)
            var end = change
            // Extend over changes and short runs of unchanged lines.
            while end < ops.count {
                guard ops[end].kind == .equal else {
                    end += 1
                    continue
                }
                let nextChange = ops[end...].firstIndex { $0.kind != .equal } ?? ops.count
                if nextChange < ops.count && nextChange - end <= 2 * context {
                    end = nextChange
                } else {
                    end = min(end + context, ops.count)
                    break
                }
            }
            hunks.append(start..<end)
            index = end
            if index >= ops.count { break }
        }
        return hunks
    }
}

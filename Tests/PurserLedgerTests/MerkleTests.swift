import Foundation
import PurserLedger
import Testing

/// The transparency-dev/merkle vectors kept beside this file (Vectors/merkle/README.md says where from).
private let merkleVectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Vectors/merkle")

@Suite struct MerkleVectorTests {
    struct Vector {
        let name: String
        let json: [String: Any]
    }

    static func vectors(_ folder: String) -> [Vector] {
        guard let enumerator = FileManager.default.enumerator(atPath: merkleVectors.appendingPathComponent(folder).path)
        else { return [] }
        return enumerator.compactMap { $0 as? String }.filter { $0.hasSuffix(".json") }.sorted().map { name in
            let data = FileManager.default.contents(
                atPath: merkleVectors.appendingPathComponent(folder + "/" + name).path)!
            return Vector(name: name, json: try! JSONSerialization.jsonObject(with: data) as! [String: Any])
        }
    }

    /// Decodes base64 hashes; nil when any is not a 32-byte hash (which a correct verifier must reject).
    static func hashes(_ value: Any?) -> [Hash]? {
        guard let strings = value as? [String] else { return value == nil || value is NSNull ? [] : nil }
        var result: [Hash] = []
        for string in strings {
            guard let hash = Hash(base64: string) else { return nil }
            result.append(hash)
        }
        return result
    }

    static func hash(_ value: Any?) -> Hash? {
        (value as? String).flatMap { Hash(base64: $0) }
    }

    /// A root: some degenerate-case vectors use opaque placeholders ("don't care") that are not 32 bytes.
    /// The verifier only compares such roots for equality, so they map to their SHA-256, which keeps
    /// equal placeholders equal and different ones different.
    static func root(_ value: Any?) -> Hash? {
        guard let text = value as? String, let data = Data(base64Encoded: text) else { return nil }
        return Hash(bytes: data) ?? Hash.sha256(data)
    }

    static func number(_ value: Any?) -> UInt64? {
        guard let number = value as? NSNumber, number.int64Value >= 0 else { return nil }
        return number.uint64Value
    }

    @Test func allVectorFilesArePresent() {
        #expect(Self.vectors("inclusion").count + Self.vectors("consistency").count == 196)
    }

    @Test func inclusionVectors() {
        let vectors = Self.vectors("inclusion")
        #expect(!vectors.isEmpty)
        for vector in vectors {
            let wantErr = vector.json["wantErr"] as! Bool
            var accepted = false
            if let index = Self.number(vector.json["leafIdx"]), let size = Self.number(vector.json["treeSize"]),
                let root = Self.root(vector.json["root"]), let leaf = Self.hash(vector.json["leafHash"]),
                let proof = Self.hashes(vector.json["proof"])
            {
                accepted = MerkleProof.verifyInclusion(leaf: leaf, index: index, size: size, proof: proof, root: root)
            }
            #expect(accepted == !wantErr, "inclusion/\(vector.name): wantErr \(wantErr)")
        }
    }

    @Test func consistencyVectors() {
        let vectors = Self.vectors("consistency")
        #expect(!vectors.isEmpty)
        for vector in vectors {
            let wantErr = vector.json["wantErr"] as! Bool
            var accepted = false
            if let size1 = Self.number(vector.json["size1"]), let size2 = Self.number(vector.json["size2"]),
                let root1 = Self.root(vector.json["root1"]), let root2 = Self.root(vector.json["root2"]),
                let proof = Self.hashes(vector.json["proof"])
            {
                accepted = MerkleProof.verifyConsistency(
                    from: size1, to: size2, proof: proof, fromRoot: root1, toRoot: root2)
            }
            #expect(accepted == !wantErr, "consistency/\(vector.name): wantErr \(wantErr)")
        }
    }

    @Test func referenceRoots() throws {
        let data = try #require(
            FileManager.default.contents(atPath: merkleVectors.appendingPathComponent("reference-roots.json").path))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let leaves = (json["leafInputs"] as! [String]).map { hex in
            stride(from: 0, to: hex.count, by: 2).map { offset -> UInt8 in
                let start = hex.index(hex.startIndex, offsetBy: offset)
                return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
            }
        }
        let roots = (json["rootHashes"] as! [String]).map { Hash(hex: $0)! }
        var frontier = MerkleFrontier()
        #expect(frontier.root == roots[0])
        for (n, leaf) in leaves.enumerated() {
            frontier.append(Hash.leaf(leaf))
            #expect(frontier.root == roots[n + 1], "root after \(n + 1) leaves")
        }
    }
}

/// Proofs purser generates verify, and any changed bit of proof, index or size is rejected.
@Suite struct MerkleProofGenerationTests {
    /// An in-memory store of every perfect subtree, filled the way the ledger fills tree_nodes.
    struct MemoryTree {
        var nodes: [String: Hash] = [:]
        var frontier = MerkleFrontier()

        init(size: Int) {
            for n in 0..<size {
                let leaf = Hash.leaf(Array("leaf \(n)".utf8))
                nodes["0/\(n)"] = leaf
                var completed: [MerkleFrontier.Node] = []
                frontier.append(leaf) { completed.append($0) }
                for node in completed { nodes["\(node.level)/\(node.index)"] = node.hash }
            }
        }

        func lookup(_ level: Int, _ index: UInt64) throws -> Hash {
            guard let hash = nodes["\(level)/\(index)"] else {
                throw LedgerError(.notFound, "no node \(level)/\(index)")
            }
            return hash
        }
    }

    static func flipped(_ hash: Hash, bit: Int) -> Hash {
        var bytes = hash.bytes
        bytes[bit / 8] ^= 1 << UInt8(bit % 8)
        return Hash(bytes: bytes)!
    }

    /// Each proof is checked against the root of the size it claims, as a verifier holding a signed
    /// checkpoint of that size would: a changed size means a different root.
    @Test func inclusionProofsVerifyAndTamperingIsRejected() throws {
        let tree = MemoryTree(size: 140)
        let roots = try (0...140).map { try MerkleProof.root(size: UInt64($0), nodes: tree.lookup) }
        for size in UInt64(1)...70 {
            for index in 0..<size {
                let leaf = try tree.lookup(0, index)
                let proof = try MerkleProof.inclusion(index: index, size: size, nodes: tree.lookup)
                #expect(
                    MerkleProof.verifyInclusion(
                        leaf: leaf, index: index, size: size, proof: proof, root: roots[Int(size)]))
                for bit in 0..<8 {
                    let otherIndex = index ^ (1 << UInt64(bit))
                    #expect(
                        !MerkleProof.verifyInclusion(
                            leaf: leaf, index: otherIndex, size: size, proof: proof, root: roots[Int(size)]))
                    let otherSize = size ^ (1 << UInt64(bit))
                    if otherSize <= 140 {
                        #expect(
                            !MerkleProof.verifyInclusion(
                                leaf: leaf, index: index, size: otherSize, proof: proof, root: roots[Int(otherSize)]))
                    }
                }
                for position in proof.indices {
                    var bad = proof
                    bad[position] = Self.flipped(bad[position], bit: (position * 37 + Int(index)) % 256)
                    #expect(
                        !MerkleProof.verifyInclusion(
                            leaf: leaf, index: index, size: size, proof: bad, root: roots[Int(size)]))
                }
                #expect(
                    !MerkleProof.verifyInclusion(
                        leaf: Self.flipped(leaf, bit: 0), index: index, size: size, proof: proof, root: roots[Int(size)]
                    ))
                #expect(
                    !MerkleProof.verifyInclusion(
                        leaf: leaf, index: index, size: size, proof: proof + [leaf], root: roots[Int(size)]))
            }
        }
        // Roots from stored nodes agree with a frontier built leaf by leaf.
        #expect(roots[140] == tree.frontier.root)
    }

    @Test func consistencyProofsVerifyAndTamperingIsRejected() throws {
        let tree = MemoryTree(size: 80)
        let roots = try (0...80).map { try MerkleProof.root(size: UInt64($0), nodes: tree.lookup) }
        for to in UInt64(1)...40 {
            for from in UInt64(1)...to {
                let proof = try MerkleProof.consistency(from: from, to: to, nodes: tree.lookup)
                #expect(
                    MerkleProof.verifyConsistency(
                        from: from, to: to, proof: proof, fromRoot: roots[Int(from)], toRoot: roots[Int(to)]))
                guard from < to else { continue }
                for bit in 0..<7 {
                    let otherFrom = from ^ (1 << UInt64(bit))
                    let otherTo = to ^ (1 << UInt64(bit))
                    if otherFrom <= 80 {
                        #expect(
                            !MerkleProof.verifyConsistency(
                                from: otherFrom, to: to, proof: proof, fromRoot: roots[Int(otherFrom)],
                                toRoot: roots[Int(to)]))
                    }
                    if otherTo <= 80 {
                        #expect(
                            !MerkleProof.verifyConsistency(
                                from: from, to: otherTo, proof: proof, fromRoot: roots[Int(from)],
                                toRoot: roots[Int(otherTo)]))
                    }
                }
                #expect(
                    !MerkleProof.verifyConsistency(
                        from: from, to: to, proof: proof, fromRoot: Self.flipped(roots[Int(from)], bit: 3),
                        toRoot: roots[Int(to)]))
                for position in proof.indices {
                    var bad = proof
                    bad[position] = Self.flipped(bad[position], bit: (position * 53 + Int(from)) % 256)
                    #expect(
                        !MerkleProof.verifyConsistency(
                            from: from, to: to, proof: bad, fromRoot: roots[Int(from)], toRoot: roots[Int(to)]))
                }
            }
        }
    }
}

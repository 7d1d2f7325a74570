/// The low-frequency corner of a square plane's 2-D DCT, as both perceptual hashes take it:
/// columns first (scipy's axis 0), then rows, in this exact order of additions, so the hashes
/// stay bit-exact with imagehash and with the browser's worker.
enum TruncatedDCT {
    /// `d[k][l]` for `k, l < block`, row-major: `rows` holds the `block` DCT basis rows of
    /// length `side` (`rows[k * side + m]`), which also picks the frequencies kept.
    static func coefficients(of plane: [Double], side: Int, block: Int, rows: [Double]) -> [Double] {
        // t[k][n] = sum over rows m of C[k][m] * P[m][n].
        var t = [Double](repeating: 0, count: block * side)
        for k in 0..<block {
            for m in 0..<side {
                let c = rows[k * side + m]
                for n in 0..<side {
                    t[k * side + n] += c * plane[m * side + n]
                }
            }
        }
        // d[k][l] = sum over n of t[k][n] * C[l][n].
        var d = [Double](repeating: 0, count: block * block)
        for k in 0..<block {
            for l in 0..<block {
                var sum = 0.0
                for n in 0..<side {
                    sum += t[k * side + n] * rows[l * side + n]
                }
                d[k * block + l] = sum
            }
        }
        return d
    }
}

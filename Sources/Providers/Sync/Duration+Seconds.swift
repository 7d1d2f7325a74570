extension Duration {
    /// Whole and fractional seconds, for comparing with policy numbers.
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}

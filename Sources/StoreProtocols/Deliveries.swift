import AssetDedupCore
import Foundation

/// Where one (asset, provider) delivery stands.
public enum DeliveryState: String, Sendable {
    case queued, delivering, delivered, failed
}

/// One row of `deliveries`: the durable job that puts one asset on one provider.
public struct Delivery: Sendable, Equatable {
    public var assetID: AssetID
    public var providerID: ProviderID
    public var state: DeliveryState
    /// Attempts started (counted when leased, so a send cut off by `kill -9` counts too).
    public var attempts: Int
    public var lastError: String?
    public var nextAttemptAt: String
    public var leaseOwner: String?
    public var leaseExpiresAt: String?
    /// Random 128-bit hex, fixed at enqueue; sent as `Idempotency-Key` on every attempt.
    public var idempotencyKey: String
    public var createdAt: String
    public var updatedAt: String

    public init(
        assetID: AssetID, providerID: ProviderID, state: DeliveryState, attempts: Int, lastError: String? = nil,
        nextAttemptAt: String, leaseOwner: String? = nil, leaseExpiresAt: String? = nil, idempotencyKey: String,
        createdAt: String, updatedAt: String
    ) {
        self.assetID = assetID
        self.providerID = providerID
        self.state = state
        self.attempts = attempts
        self.lastError = lastError
        self.nextAttemptAt = nextAttemptAt
        self.leaseOwner = leaseOwner
        self.leaseExpiresAt = leaseExpiresAt
        self.idempotencyKey = idempotencyKey
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// What `enqueueDelivery` found.
public enum EnqueueOutcome: Sendable, Equatable {
    /// A `provider_uploads` row exists: nothing to send.
    case alreadyDelivered(providerAssetID: String)
    /// The job as it stands after the enqueue (new, re-queued, or already queued/delivering).
    case pending(Delivery)
}

/// What `leaseDelivery` found for one named pair.
public enum LeaseOutcome: Sendable, Equatable {
    /// The caller holds the lease now: send, then `completeDelivery` or `failDelivery`.
    case leased(Delivery)
    case alreadyDelivered(providerAssetID: String)
    /// Another owner holds a lease that has not expired.
    case heldElsewhere(Delivery)
}

/// UTC ISO-8601 with milliseconds, the same text SQLite's `strftime('%Y-%m-%dT%H:%M:%fZ')` makes,
/// so times written from Swift and from SQL compare as strings.
public enum Timestamp {
    public static func string(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var millis = Int(((date.timeIntervalSince1970 - Double(seconds)) * 1000).rounded())  // as SQLite rounds
        if millis >= 1000 {
            seconds += 1
            millis -= 1000
        }
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }

    /// The date a `string(_:)` text stands for; nil for any other text.
    public static func date(_ text: String) -> Date? {
        let digits = Array(text.utf8)
        guard digits.count >= 20, digits[4] == 45, digits[7] == 45, digits[10] == 84, digits[13] == 58,
            digits[16] == 58
        else { return nil }
        func number(_ range: Range<Int>) -> Int32? {
            var value: Int32 = 0
            for index in range {
                guard (48...57).contains(digits[index]) else { return nil }
                value = value * 10 + Int32(digits[index] - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        let millis = digits.count >= 24 && digits[19] == 46 ? number(20..<23).map { Double($0) / 1000 } ?? 0 : 0
        return Date(timeIntervalSince1970: Double(timegm(&parts)) + millis)
    }
}

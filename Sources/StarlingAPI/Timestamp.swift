import Foundation

/// RFC 3339 timestamps as Kubernetes writes them (`2026-11-22T20:24:00Z`).
public enum Timestamp {
    /// Now, to the second.
    public static func now() -> String { format(Date()) }

    public static func format(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    public static func parse(_ string: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: string) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: string)
    }

    /// A short age such as `5s`, `3m`, `2h`, `4d`, as kubectl prints it.
    public static func age(of string: String?, now: Date = Date()) -> String {
        guard let string, let date = parse(string) else { return "<unknown>" }
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        if seconds < 120 { return "\(seconds)s" }
        if seconds < 3600 * 2 { return "\(seconds / 60)m" }
        if seconds < 86400 * 2 { return "\(seconds / 3600)h" }
        return "\(seconds / 86400)d"
    }
}

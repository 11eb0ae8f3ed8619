// HTTPDate: the IMF-fixdate of RFC 9110 section 5.6.7 (`Date: Sun, 06 Nov 1994 08:49:37 GMT`),
// formatted without Foundation. Event loops cache the encoded header line and refresh it once a second.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum HTTPDate {
    static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The date for Unix time `seconds`, as IMF-fixdate.
    public static func format(_ seconds: Int) -> String {
        var t = time_t(seconds)
        var tm = tm()
        gmtime_r(&t, &tm)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(days[Int(tm.tm_wday)]), \(two(tm.tm_mday)) \(months[Int(tm.tm_mon)]) \(1900 + tm.tm_year) "
            + "\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec)) GMT"
    }

    /// The whole `Date: ...\r\n` header line for Unix time `seconds`.
    public static func headerLine(_ seconds: Int) -> [UInt8] {
        Array("Date: \(format(seconds))\r\n".utf8)
    }
}

// NamedThread: starts the store's own threads (writers, tailers, apply stages, the blocking pool)
// under one name that both Foundation (`Thread.name`, which code may read) and the operating system
// (`top -H`, `perf`, /proc/PID/task/TID/comm; Foundation does not set it on Linux) show. Linux keeps
// 15 bytes of a name.
import CQuiverSystem
import Foundation

enum NamedThread {
    /// Runs `body` on a new thread named `name`.
    static func start(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread {
            cq_set_thread_name(name)
            body()
        }
        thread.name = name
        thread.start()
    }
}

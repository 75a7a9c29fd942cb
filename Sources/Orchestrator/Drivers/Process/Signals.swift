import Foundation

/// Signal names as Docker takes them (`HUP`, `SIGHUP`, `hup`, `1`).
enum Signals {
  static let numbers: [String: Int32] = [
    "HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "ILL": SIGILL, "TRAP": SIGTRAP, "ABRT": SIGABRT,
    "BUS": SIGBUS, "FPE": SIGFPE, "KILL": SIGKILL, "USR1": SIGUSR1, "SEGV": SIGSEGV, "USR2": SIGUSR2,
    "PIPE": SIGPIPE, "ALRM": SIGALRM, "TERM": SIGTERM, "CHLD": SIGCHLD, "CONT": SIGCONT, "STOP": SIGSTOP,
    "TSTP": SIGTSTP, "TTIN": SIGTTIN, "TTOU": SIGTTOU, "URG": SIGURG, "XCPU": SIGXCPU, "XFSZ": SIGXFSZ,
    "VTALRM": SIGVTALRM, "PROF": SIGPROF, "WINCH": SIGWINCH, "IO": SIGIO, "SYS": SIGSYS,
  ]

  static func number(_ name: String) throws -> Int32 {
    var n = name.uppercased()
    if n.hasPrefix("SIG") { n = String(n.dropFirst(3)) }
    if let v = numbers[n] { return v }
    if let v = Int32(n), v > 0, v < 65 { return v }
    throw DriverError(.unsupported, "unknown signal '\(name)'; use a name such as HUP, TERM or KILL")
  }
}

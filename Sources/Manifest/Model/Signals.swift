import Foundation

/// The one table of signal names cthulhu knows, as Docker takes them
/// (`HUP`, `SIGHUP`, `hup`, `1`): `on_change: signal:NAME` in a manifest,
/// `cthulhu kill --signal`, and the process driver's `kill` all read it.
public enum Signals {
  public static let numbers: [String: Int32] = [
    "HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "ILL": SIGILL, "TRAP": SIGTRAP, "ABRT": SIGABRT,
    "BUS": SIGBUS, "FPE": SIGFPE, "KILL": SIGKILL, "USR1": SIGUSR1, "SEGV": SIGSEGV, "USR2": SIGUSR2,
    "PIPE": SIGPIPE, "ALRM": SIGALRM, "TERM": SIGTERM, "CHLD": SIGCHLD, "CONT": SIGCONT, "STOP": SIGSTOP,
    "TSTP": SIGTSTP, "TTIN": SIGTTIN, "TTOU": SIGTTOU, "URG": SIGURG, "XCPU": SIGXCPU, "XFSZ": SIGXFSZ,
    "VTALRM": SIGVTALRM, "PROF": SIGPROF, "WINCH": SIGWINCH, "IO": SIGIO, "SYS": SIGSYS,
  ]

  /// `HUP` for `hup`, `SIGHUP` or `1`; nil for a name no table holds.
  public static func canonical(_ name: String) -> String? {
    var n = name.uppercased()
    if n.hasPrefix("SIG") { n = String(n.dropFirst(3)) }
    if numbers[n] != nil { return n }
    if let v = Int32(n) { return numbers.first { $0.value == v }?.key }
    return nil
  }

  /// The number of a signal name or number (1…64, real-time signals included).
  public static func number(_ name: String) -> Int32? {
    if let c = canonical(name) { return numbers[c] }
    if let v = Int32(name), v > 0, v < 65 { return v }
    return nil
  }

  /// For error messages: the common names.
  public static let common = "HUP, INT, TERM, KILL, USR1, USR2, QUIT, STOP, CONT"
}

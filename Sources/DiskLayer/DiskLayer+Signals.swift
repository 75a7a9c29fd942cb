#if canImport(CFuse)
internal import CFuse
import Glibc
import Orchestrator

/// Ending the FUSE loop on SIGTERM, SIGINT or SIGHUP. libfuse's own
/// handlers only mark the session as ended, which the loop sees after its
/// next request; and in a Swift program the signal reaches whichever
/// thread has it unblocked (the main one), not the loop's thread, blocked
/// in its read of /dev/fuse. So the handler marks the session and sends
/// SIGUSR2 (a handler that does nothing, no SA_RESTART) to the loop's
/// thread, whose read returns EINTR; ``kickIfStopping()`` repeats the
/// kick for a signal that came between the loop's check and its read.
enum DiskLayerSignals {
  nonisolated(unsafe) static var session: OpaquePointer?
  nonisolated(unsafe) static var loopThread: pthread_t?

  /// Installs the handlers; call on the thread that then runs the loop.
  static func install(session: OpaquePointer?) {
    Self.session = session
    Self.loopThread = pthread_self()
    var kick = sigaction()
    kick.__sigaction_handler.sa_handler = { _ in }
    sigemptyset(&kick.sa_mask)
    kick.sa_flags = 0
    sigaction(SIGUSR2, &kick, nil)
    var stop = sigaction()
    stop.__sigaction_handler.sa_handler = { _ in
      fuse_session_exit(DiskLayerSignals.session)
      if let thread = DiskLayerSignals.loopThread { pthread_kill(thread, SIGUSR2) }
    }
    sigemptyset(&stop.sa_mask)
    stop.sa_flags = 0
    for signal in [SIGTERM, SIGINT, SIGHUP] { sigaction(signal, &stop, nil) }
    signal(SIGPIPE, SIG_IGN)
    var unblock = sigset_t()
    sigemptyset(&unblock)
    sigaddset(&unblock, SIGUSR2)
    pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
  }

  /// The session was told to end.
  static var isStopping: Bool {
    guard let session else { return false }
    return fuse_session_exited(session) != 0
  }

  /// Kicks the loop's thread again if the session was told to end.
  static func kickIfStopping() {
    guard let session, fuse_session_exited(session) != 0, let thread = loopThread else { return }
    pthread_kill(thread, SIGUSR2)
  }

  /// Puts the default handlers back once the loop is over.
  static func remove() {
    for signal in [SIGTERM, SIGINT, SIGHUP, SIGUSR2] { Glibc.signal(signal, SIG_DFL) }
    loopThread = nil
    session = nil
  }
}
#endif

import Dispatch
import Foundation
import Manifest

#if canImport(CNetfilterQueue)
import CNetfilterQueue
#endif

/// Latency on a kernel without `sch_netem`: the packets arriving at an
/// instance are handed to user space by iptables (`-j NFQUEUE --queue-num
/// 51143 --queue-bypass` at the end of `CTHULHU-IN`, see ``NetRules``) and
/// this loop, running inside the instance's network namespace, holds each
/// one for its delay before it lets it go (`NF_ACCEPT`). Only the packet's id
/// crosses to user space (`NFQNL_COPY_META`); the packet stays in the kernel.
///
/// Arriving, not leaving (netem delays what leaves): a locally sent packet
/// held in a queue stays charged to its socket, and TCP Small Queues then
/// let the sender keep only a few packets below it, so a 20 ms hold cut a
/// bulk transfer to 0.3 MB/s. netem lets go of the packet's socket when it
/// queues it (`skb_orphan_partial`), which user space cannot do; an arriving
/// packet belongs to no local socket yet. Every exchange with the instance
/// crosses its link both ways, so the added round trip is the same.
///
/// One process per instance (`cthulhu _delay`), detached and owned like the
/// reaper (``PacketDelayerProcess``). If it dies, `--queue-bypass` lets the
/// packets through undelayed: nothing is ever queued for good.
public enum PacketDelayer {
  /// The queue number in every instance's namespace (queues are per namespace).
  public static let queueNumber: UInt16 = 51143
  /// Packets held at once; past it the kernel drops, as netem does past its limit.
  static let maxHeld: UInt32 = 10_000

  public enum Distribution: String, Sendable, Codable, CaseIterable {
    /// delay ± jitter, every value in between as likely (netem without `distribution`).
    case uniform
    /// jitter is one standard deviation (netem `distribution normal`).
    case normal
  }

  /// Every queue one delayer binds (the instance's own, 51143, and one per
  /// link delay after it) and the delays drawn for each packet on it, summed.
  public struct Plan: Sendable, Hashable, Codable {
    public struct Queue: Sendable, Hashable, Codable {
      public var number: UInt16
      public var specs: [Spec]
      public init(number: UInt16, specs: [Spec]) {
        self.number = number
        self.specs = specs
      }
    }
    public var queues: [Queue]
    public init(queues: [Queue]) { self.queues = queues }
  }

  /// What one delayer does to each packet.
  public struct Spec: Sendable, Hashable, Codable {
    public var delayMs: Double
    public var jitterMs: Double
    public var distribution: Distribution
    public var seed: UInt64
    /// Percent of packets let through at once rather than held, so that they
    /// overtake the held ones (netem's `reorder`); nil is none.
    public var reorderPercent: Double?

    public init(delayMs: Double, jitterMs: Double = 0, distribution: Distribution = .normal, seed: UInt64 = 1, reorderPercent: Double? = nil) {
      self.delayMs = delayMs
      self.jitterMs = jitterMs
      self.distribution = distribution
      self.seed = seed
      self.reorderPercent = reorderPercent
    }

    /// One packet's delay in milliseconds, never below zero.
    func sample(_ g: inout SeededGenerator) -> Double {
      guard jitterMs > 0 else { return delayMs }
      switch distribution {
      case .uniform:
        return max(0, delayMs + Double.random(in: -jitterMs...jitterMs, using: &g))
      case .normal:
        // Box–Muller.
        let u1 = Double.random(in: Double.leastNonzeroMagnitude..<1, using: &g)
        let u2 = Double.random(in: 0..<1, using: &g)
        return max(0, delayMs + jitterMs * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
      }
    }
  }

  /// Enters the network namespace at `namespace` (`/proc/<pid>/ns/net`,
  /// `/run/netns/<name>`), binds every queue of `plan`, calls `ready` once
  /// packets are being taken, and holds packets until SIGTERM or until
  /// `stillWanted` (asked every two seconds) says no. Lets every held packet
  /// go before it returns. Blocks its thread; call it from a process of its own.
  public static func run(namespace: String, plan: Plan, ready: () throws -> Void, stillWanted: () -> Bool) throws {
    #if canImport(CNetfilterQueue)
    let nsfd = open(namespace, O_RDONLY | O_CLOEXEC)
    guard nsfd >= 0 else { throw OrchestratorError(.io, "\(namespace): \(String(cString: strerror(errno)))") }
    // setns applies to this thread only; the netlink socket below is made on
    // it (no suspension point in between) and so belongs to the namespace.
    guard cthulhu_setns_net(nsfd) == 0 else {
      let e = String(cString: strerror(errno))
      close(nsfd)
      throw OrchestratorError(.unsupported, "could not enter the network namespace \(namespace) (\(e)); the delayer needs root")
    }
    close(nsfd)

    guard let h = nfq_open() else {
      throw OrchestratorError(
        .unsupported, "could not open a netfilter queue socket (\(String(cString: strerror(errno)))); the kernel needs nfnetlink_queue")
    }
    defer { nfq_close(h) }
    let callback: @convention(c) (OpaquePointer?, UnsafeMutablePointer<nfgenmsg>?, OpaquePointer?, UnsafeMutableRawPointer?) -> Int32 = {
      _, _, nfa, data in
      guard let nfa, let data, let hdr = nfq_get_msg_packet_hdr(nfa) else { return 0 }
      let s = Unmanaged<State>.fromOpaque(data).takeUnretainedValue()
      s.hold(id: UInt32(bigEndian: hdr.pointee.packet_id))
      return 0
    }
    // One state per queue, each with its own held packets and draws.
    let states = plan.queues.map { State(specs: $0.specs) }
    defer {
      for st in states where st.queue != nil { nfq_destroy_queue(st.queue) }
    }
    for (q, st) in zip(plan.queues, states) {
      guard let qh = nfq_create_queue(h, q.number, callback, Unmanaged.passUnretained(st).toOpaque()) else {
        throw OrchestratorError(
          .unsupported,
          "could not bind netfilter queue \(q.number) in \(namespace) (\(String(cString: strerror(errno)))); is another delayer running there?")
      }
      st.queue = qh
      if nfq_set_mode(qh, UInt8(NFQNL_COPY_META.rawValue), 0) < 0, nfq_set_mode(qh, UInt8(NFQNL_COPY_PACKET.rawValue), 64) < 0 {
        throw OrchestratorError(.unsupported, "could not set the netfilter queue's copy mode (\(String(cString: strerror(errno))))")
      }
      _ = nfq_set_queue_maxlen(qh, maxHeld)
      // Large (GSO) packets are queued whole rather than cut up first; older kernels refuse the flag, which costs speed only.
      _ = nfq_set_queue_flags(qh, UInt32(NFQA_CFG_F_GSO), UInt32(NFQA_CFG_F_GSO))
    }
    _ = nfnl_rcvbufsiz(nfq_nfnlh(h), 16 << 20)
    let fd = nfq_fd(h)
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)

    // SIGTERM wakes the loop through a pipe, so that held packets go out before exit.
    var wake: [Int32] = [0, 0]
    guard pipe(&wake) == 0 else { throw OrchestratorError(.io, "pipe: \(String(cString: strerror(errno)))") }
    signal(SIGTERM, SIG_IGN)
    signal(SIGINT, SIG_IGN)
    let writeEnd = wake[1]
    var sources: [any DispatchSourceSignal] = []
    for sig in [SIGTERM, SIGINT] {
      let src = DispatchSource.makeSignalSource(signal: sig, queue: .global())
      src.setEventHandler {
        var b: UInt8 = 1
        _ = write(writeEnd, &b, 1)
      }
      src.resume()
      sources.append(src)
    }
    defer { for s in sources { s.cancel() } }

    try ready()
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    var lastCheck = ContinuousClock.now
    loop: while true {
      let timeout: Int32 =
        states.compactMap { $0.nextDue() }.min().map { due in
          let left = ContinuousClock.now.duration(to: due)
          return left <= .zero ? 0 : Int32(min(2000, left.wholeMilliseconds + 1))
        } ?? 2000
      var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wake[0], events: Int16(POLLIN), revents: 0)]
      let n = poll(&fds, 2, timeout)
      if n < 0, errno != EINTR { throw OrchestratorError(.io, "poll: \(String(cString: strerror(errno)))") }
      if fds[1].revents != 0 { break loop }
      if fds[0].revents != 0 {
        while true {
          let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
          if got < 0 {
            // ENOBUFS: the kernel could not tell us of some packets and dropped them (never left queued).
            if errno == EAGAIN || errno == EWOULDBLOCK { break }
            if errno == ENOBUFS || errno == EINTR { continue }
            throw OrchestratorError(.io, "netfilter queue: \(String(cString: strerror(errno)))")
          }
          _ = buffer.withUnsafeMutableBytes { nfq_handle_packet(h, $0.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(got)) }
        }
      }
      for st in states { st.releaseDue() }
      if lastCheck.duration(to: .now) > .seconds(2) {
        lastCheck = .now
        if !stillWanted() { break loop }
      }
    }
    for st in states { st.releaseAll() }
    #else
    throw OrchestratorError(.unsupported, "delay without netem needs Linux's netfilter queue (libnetfilter_queue)")
    #endif
  }

  #if canImport(CNetfilterQueue)
  /// The packets held, by the moment each is due (kept sorted).
  final class State {
    let specs: [Spec]
    var generator: SeededGenerator
    var queue: OpaquePointer?
    var held: [(due: ContinuousClock.Instant, id: UInt32)] = []

    /// Percent of packets not held (the largest any spec asks for).
    let reorder: Double

    init(specs: [Spec]) {
      self.specs = specs
      reorder = specs.compactMap(\.reorderPercent).max() ?? 0
      generator = SeededGenerator(seed: specs.reduce(0) { $0 ^ $1.seed })
    }

    func hold(id: UInt32) {
      // Reordering: a seeded share goes at once and overtakes the packets held.
      if reorder > 0, Double.random(in: 0..<100, using: &generator) < reorder {
        _ = nfq_set_verdict(queue, id, UInt32(CTHULHU_NF_ACCEPT), 0, nil)
        return
      }
      let ms = specs.reduce(0.0) { $0 + $1.sample(&generator) }
      let due = ContinuousClock.now.advanced(by: .microseconds(Int64(ms * 1000)))
      // Binary search for the first later packet: equal delays keep their order.
      var lo = 0
      var hi = held.count
      while lo < hi {
        let mid = (lo + hi) / 2
        if held[mid].due <= due { lo = mid + 1 } else { hi = mid }
      }
      held.insert((due, id), at: lo)
    }

    func nextDue() -> ContinuousClock.Instant? { held.first?.due }

    func releaseDue() {
      let now = ContinuousClock.now
      var n = 0
      while n < held.count, held[n].due <= now {
        _ = nfq_set_verdict(queue, held[n].id, UInt32(CTHULHU_NF_ACCEPT), 0, nil)
        n += 1
      }
      if n > 0 { held.removeFirst(n) }
    }

    func releaseAll() {
      for p in held { _ = nfq_set_verdict(queue, p.id, UInt32(CTHULHU_NF_ACCEPT), 0, nil) }
      held = []
    }
  }
  #endif
}

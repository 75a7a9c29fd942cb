/// Durations measured on a machine that may be loaded (CI runs tests side by
/// side). A slow sample is the machine's, not the product's: upper bounds
/// are held by the median and spreads by the middle half, never by one
/// sample. Lower bounds (a delay took effect) hold for every sample.
extension Array where Element == Double {
  /// The middle sample (the upper one of the two middles for an even count).
  public var median: Double { sorted()[count / 2] }

  /// The spread of the middle half: third quartile less first (for five
  /// samples, the 4th less the 2nd in order), blind to one outlier each side.
  public var middleSpread: Double {
    let s = sorted()
    return s[(count * 3) / 4] - s[count / 4]
  }
}

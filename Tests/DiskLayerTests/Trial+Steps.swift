import DiskLayer
import Foundation
import Orchestrator

/// The operations a ``Trial`` draws: each made through the mount and on the model.
extension Trial {
  mutating func pick<T>(_ items: [T]) -> T? { items.isEmpty ? nil : items[Int.random(in: 0..<items.count, using: &random)] }

  mutating func step(_ kind: Int) throws {
    switch kind {
    case 0: try create()
    case 1, 2: try write()
    case 3: try truncate()
    case 4, 5: try fsyncFile()
    case 6: try renameFile()
    case 7: try unlinkFile()
    case 8, 9: try fsyncFolder()
    case 10: try makeFolder()
    default: try renameOrRemoveFolder()
    }
  }

  mutating func create() throws {
    guard let (path, folder) = pick(folders) else { return }
    let name = "f\(Int.random(in: 0..<5, using: &random))"
    guard folder.entries[name] == nil else { return }
    let file = ModelFile()
    let content = bytes(Int.random(in: 0...300, using: &random))
    try Through.write(path + "/" + name, at: 0, content, create: true)
    if !content.isEmpty { file.write(0, content) }
    folder.entries[name] = .file(file)
    log.append("create \(path)/\(name) \(content.count)")
  }

  mutating func write() throws {
    guard let target = pick(files) else { return }
    let offset = Int.random(in: 0...(target.file.content.count + 64), using: &random)
    let data = bytes(Int.random(in: 1...300, using: &random))
    try Through.write(target.path, at: offset, data)
    target.file.write(offset, data)
    log.append("write \(target.path) \(offset)+\(data.count)")
  }

  mutating func truncate() throws {
    guard let target = pick(files) else { return }
    let size = Int.random(in: 0...(target.file.content.count + 32), using: &random)
    try Through.truncate(target.path, size)
    target.file.truncate(size)
    log.append("truncate \(target.path) \(size)")
  }

  mutating func fsyncFile() throws {
    guard let target = pick(files) else { return }
    try Through.fsync(target.path)
    target.file.fsync()
    log.append("fsync \(target.path)")
  }

  /// A file to a name in any trial folder, replacing a file there.
  mutating func renameFile() throws {
    guard let source = pick(files), let (path, folder) = pick(folders) else { return }
    let name = "f\(Int.random(in: 0..<5, using: &random))"
    let to = path + "/" + name
    guard to != source.path else { return }
    if case .folder = folder.entries[name] { return }
    try Through.rename(source.path, to)
    source.folder.entries[source.name] = nil
    folder.entries[name] = .file(source.file)
    log.append("rename \(source.path) \(to)")
  }

  mutating func unlinkFile() throws {
    guard let target = pick(files) else { return }
    try Through.unlink(target.path)
    target.folder.entries[target.name] = nil
    log.append("unlink \(target.path)")
  }

  mutating func fsyncFolder() throws {
    guard let (path, folder) = pick(folders) else { return }
    try Through.fsync(path, folder: true)
    folder.durable = folder.entries
    log.append("fsync \(path)/")
  }

  mutating func makeFolder() throws {
    let name = "d\(Int.random(in: 0..<3, using: &random))"
    guard top.entries[name] == nil else { return }
    try Through.mkdir(base + "/" + name)
    top.entries[name] = .folder(ModelFolder())
    log.append("mkdir \(base)/\(name)")
  }

  /// A subfolder renamed to a free name, or removed when it is empty.
  mutating func renameOrRemoveFolder() throws {
    let subfolders = folders.dropFirst().map { $0 }
    guard let (path, folder) = pick(subfolders) else { return }
    let name = String(path.split(separator: "/").last!)
    if folder.entries.isEmpty, Bool.random(using: &random) {
      try Through.rmdir(path)
      top.entries[name] = nil
      log.append("rmdir \(path)")
      return
    }
    let to = "d\(Int.random(in: 0..<3, using: &random))"
    guard top.entries[to] == nil else { return }
    try Through.rename(path, base + "/" + to)
    top.entries[name] = nil
    top.entries[to] = .folder(folder)
    log.append("rename \(path) \(base)/\(to)")
  }
}

// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "neighsyncd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "neighsyncd", targets: ["neighsyncd"]),
        // The pure core, for tools that embed the offline reconcile.
        .library(name: "NeighsyncCore", targets: ["Model", "Reconciler", "Journal"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        .target(name: "Model"),
        // Files the daemon writes or reads from outside: exclusive temp files, private folders,
        // bounded reads. I/O, so not in Model.
        .target(name: "Files"),
        .target(name: "Reconciler", dependencies: ["Model"]),
        .target(name: "CNetlink"),
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .target(name: "StoreObserver", dependencies: ["Model", "Files", "CHiredis"]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "Journal", dependencies: ["Model", "CSQLite"]),
        .target(name: "KernelObserver", dependencies: ["Model", "CNetlink"]),
        // `neighsyncd restore` (restore_neighbors.py's replacement): pure planning, and the batched
        // kernel install through rtnetlink.
        .target(name: "Restorer", dependencies: ["Model", "KernelObserver", "Journal", "CNetlink"]),
        // The imperative shell: one runtime, one handler per resource, production transports.
        .target(
            name: "Shell",
            dependencies: ["Model", "Files", "Reconciler", "KernelObserver", "StoreObserver", "Journal", "CNetlink"]
        ),
        .executableTarget(
            name: "neighsyncd",
            dependencies: [
                "Model", "Files", "Reconciler", "KernelObserver", "StoreObserver", "Journal", "CNetlink", "Shell",
                "Restorer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "neighsyncd-bench",
            dependencies: [
                "Model", "Reconciler", "KernelObserver", "StoreObserver", "Journal", "Restorer", "CNetlink",
            ]
        ),
        // Test support, built and never shipped: the program the crash tests kill (swift-nio's
        // NIOCrashTester is the model) and the record stream it shares with them; a fake Redis
        // answering with canned replies (the StoreObserver tests, FuzzRedisReplies).
        .target(name: "JournalExercise", dependencies: ["Model"], path: "Tests/Support/JournalExercise"),
        .target(name: "CannedRedis", dependencies: ["StoreObserver"], path: "Tests/Support/CannedRedis"),
        .executableTarget(
            name: "neighsyncd-crash-tester",
            dependencies: [
                "Journal", "JournalExercise",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tests/CrashTester"
        ),
        .testTarget(
            name: "ReconcilerTests",
            dependencies: [
                "Model", "Reconciler", "ChildTest", "PropertySeed", "RunTrace",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "FilesTests", dependencies: ["Files"]),
        // NEIGHSYNCD_PROPERTY_SEED: a property runs the one case a failure printed the seed of.
        .target(
            name: "PropertySeed",
            dependencies: [.product(name: "PropertyBased", package: "swift-property-based")],
            path: "Tests/Support/PropertySeed"
        ),
        // A hash of a run's events and effects that is the same in every process.
        .target(name: "RunTrace", dependencies: ["Model"], path: "Tests/Support/RunTrace"),
        // Runs the test binary again for one test (a seed replayed in another process).
        .target(name: "ChildTest", path: "Tests/Support/ChildTest"),
        // The embedded runtime: the shell's production handlers on a virtual clock and fakes.
        .target(
            name: "ShellTesting",
            dependencies: ["RunTrace", "Model", "Reconciler", "Shell", "KernelObserver", "StoreObserver", "CNetlink"],
            path: "Tests/Support/ShellTesting"
        ),
        .testTarget(
            name: "ShellTests",
            dependencies: [
                "ChildTest",
                "PropertySeed", "RunTrace",
                "Model", "Reconciler", "Shell", "ShellTesting", "KernelObserver", "Journal",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "JournalTests",
            dependencies: ["Model", "Reconciler", "Journal", "JournalExercise", "CSQLite"]
        ),
        .testTarget(
            name: "StoreObserverTests",
            dependencies: ["Model", "Reconciler", "StoreObserver", "CannedRedis", "Shell"]
        ),
        // A private network namespace per test (the kernel observer's and the restorer's live tests).
        .target(name: "NetNamespace", dependencies: ["CNetlink"], path: "Tests/Support/NetNamespace"),
        .testTarget(name: "RestorerTests", dependencies: ["Model", "Restorer", "Journal", "NetNamespace"]),
        .testTarget(
            name: "KernelObserverTests",
            dependencies: ["Model", "Reconciler", "KernelObserver", "CNetlink", "NetNamespace"],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets (docs/testing.md), declared only when scripts/fuzz sets NEIGHSYNCD_FUZZ: they
// need libFuzzer, which only `-sanitize=fuzzer` links, and `swift build` need not build them.
if Context.environment["NEIGHSYNCD_FUZZ"] != nil {
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("FuzzNetlink", ["KernelObserver"]),
        ("FuzzIPNeighJSON", ["Model"]),
        ("FuzzRedisDump", ["Model"]),
        ("FuzzJournalRecords", ["Model", "Journal", "JournalSamples"]),
        ("FuzzJournalFile", ["Journal", "CSQLite", "JournalSamples"]),
        ("FuzzRedisReplies", ["Model", "StoreObserver", "CannedRedis"]),
        ("FuzzDatabaseConfig", ["StoreObserver"]),
    ]
    package.targets.append(.target(name: "CFuzzDriver", path: "Fuzz/CFuzzDriver"))
    package.targets.append(
        .target(name: "JournalSamples", dependencies: ["Model", "Journal"], path: "Fuzz/JournalSamples")
    )
    for t in fuzzTargets {
        package.targets.append(
            .executableTarget(name: t.name, dependencies: t.dependencies + ["CFuzzDriver"], path: "Fuzz/\(t.name)")
        )
    }
}

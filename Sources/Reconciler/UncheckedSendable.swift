/// Carries a value into `DispatchQueue.concurrentPerform`'s closure. Only for values each
/// iteration uses without a race: a closure that is only called, or a buffer whose slots are each
/// written by one iteration and read after all have joined.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}

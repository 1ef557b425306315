import FuzzTargets

/// libFuzzer calls this once per input; 0 means the input was handled (anything else is reserved).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    SigmaTarget.run(UnsafeRawBufferPointer(start: start, count: count))
    return 0
}

import FlightlogEvidence
import FlightlogStore
public import FlightlogTestSupport
import FlightlogWire
import Foundation

/// A database holding a multi-host call-center intrusion, stored as the aggregator stores what agents ship (real
/// signed, chained batches through the store's ingest, each agent's handshake recorded), with no server:
///
/// 1. 10:02 help-desk password reset, 10:03 MFA reset for mchen on cc-ws-602 (ticket INC-4711)
/// 2. 10:09 mchen logs in from a never-seen IP, 203.0.113.77
/// 3. 10:15 OAuth consent for the "Data Loader" connected app
/// 4. 10:31 bulk export of 48,210 customer records
/// 5. 10:47 a remote-access tool (AnyDesk) starts on another host, cc-ws-611
///
/// plus a baseline day (mchen always from 10.20.30.40), a non-UTF-8 line, an off-hours CRM access at 22:30, a
/// chain gap on cc-ws-611 (its batch 2 never arrives) and clock skew on cc-ws-602. Unless told otherwise, the
/// aggregator key is created next to the database and a checkpoint of all five batches is signed, as `serve` does.
///
/// Transparency-log leaves: cc-ws-602 seq 1…3 are leaves 0…2, cc-ws-611 seq 1 and 3 are leaves 3 and 4.
public struct IncidentFixture: Sendable {
    public let directory: TempDirectory
    public var database: String { self.directory.file("flightlog.db") }
    /// The aggregator's private key file (`serve`'s default place); its verifier key is `aggregatorKey + ".pub"`.
    public var aggregatorKey: String { AggregatorKeyFile.defaultPath(database: self.database) }

    public static let workstation = TestAgent(name: "cc-ws-602", clockOffsetNanos: 2_500_000_000)
    public static let otherHost = TestAgent(name: "cc-ws-611")
    public static let invalidUTF8Line: [UInt8] = Array("kernel: usb 1-1: bad descriptor ".utf8) + [0xff, 0xfe, 0x41]

    /// Builds the incident in `directory` (a fresh one when nil).
    public static func make(
        signCheckpoint: Bool = true,
        in directory: TempDirectory? = nil
    ) async throws -> IncidentFixture {
        let fixture = IncidentFixture(directory: try directory ?? TempDirectory())
        let ws602 = Self.workstation
        let ws611 = Self.otherHost
        var odd = try ws602.event("2026-11-24T10:20:00Z", "", [("program", "kernel")])
        odd.line = Self.invalidUTF8Line
        let chain602 = try ws602.chain([
            [
                try ws602.event(
                    "2026-11-23T09:01:00Z",
                    "Nov 23 09:01:00 cc-ws-602 crm-sso[811]: login success user=mchen src_ip=10.20.30.40",
                    [
                        ("program", "crm-sso"), ("pid", "811"), ("user", "mchen"), ("src_ip", "10.20.30.40"),
                        ("action", "login"), ("outcome", "success"),
                    ]
                ),
                try ws602.event(
                    "2026-11-23T09:30:00Z",
                    "Nov 23 09:30:00 cc-ws-602 crm-app[900]: record view account=ACME-1 user=mchen",
                    [("program", "crm-app"), ("user", "mchen"), ("action", "record_view")]
                ),
                try ws602.event(
                    "2026-11-23T16:55:00Z",
                    "Nov 23 16:55:00 cc-ws-602 crm-sso[811]: logout user=mchen",
                    [("program", "crm-sso"), ("user", "mchen"), ("action", "logout")]
                ),
            ],
            [
                try ws602.event(
                    "2026-11-24T10:02:00Z",
                    "Nov 24 10:02:00 cc-ws-602 servicedesk[2211]: password reset for user=mchen requested by phone caller, ticket INC-4711, approved by hd-op3",
                    [
                        ("program", "servicedesk"), ("pid", "2211"), ("user", "mchen"), ("action", "password_reset"),
                        ("ticket", "INC-4711"), ("actor", "hd-op3"),
                    ]
                ),
                try ws602.event(
                    "2026-11-24T10:03:30Z",
                    "Nov 24 10:03:30 cc-ws-602 servicedesk[2211]: MFA device reset for user=mchen, ticket INC-4711",
                    [
                        ("program", "servicedesk"), ("pid", "2211"), ("user", "mchen"), ("action", "mfa_reset"),
                        ("ticket", "INC-4711"),
                    ]
                ),
            ],
            [
                try ws602.event(
                    "2026-11-24T10:09:12Z",
                    "Nov 24 10:09:12 cc-ws-602 crm-sso[811]: login success user=mchen src_ip=203.0.113.77 device=new",
                    [
                        ("program", "crm-sso"), ("pid", "811"), ("user", "mchen"), ("src_ip", "203.0.113.77"),
                        ("action", "login"), ("outcome", "success"),
                    ]
                ),
                try ws602.event(
                    "2026-11-24T10:15:40Z",
                    #"{"event":"oauth_consent","user":"mchen","app":"Data Loader","scopes":"api refresh_token full","src_ip":"203.0.113.77"}"#,
                    [
                        ("program", "crm-audit"), ("event", "oauth_consent"), ("user", "mchen"), ("app", "Data Loader"),
                        ("scopes", "api refresh_token full"), ("src_ip", "203.0.113.77"),
                    ],
                    source: "/var/log/crm/audit.jsonl"
                ),
                odd,
                try ws602.event(
                    "2026-11-24T10:31:05Z",
                    #"{"event":"bulk_export","user":"mchen","object":"Contact","records":"48210","app":"Data Loader","src_ip":"203.0.113.77"}"#,
                    [
                        ("program", "crm-audit"), ("event", "bulk_export"), ("user", "mchen"), ("object", "Contact"),
                        ("records", "48210"), ("app", "Data Loader"), ("src_ip", "203.0.113.77"),
                    ],
                    source: "/var/log/crm/audit.jsonl"
                ),
            ],
        ])
        let chain611 = try ws611.chain([
            [
                try ws611.event(
                    "2026-11-24T09:00:00Z",
                    "Nov 24 09:00:00 cc-ws-611 CRON[101]: pam_unix(cron:session): session opened for user root",
                    [("program", "CRON"), ("pid", "101"), ("user", "root"), ("action", "session_open")]
                ),
                try ws611.event(
                    "2026-11-24T09:20:00Z",
                    "Nov 24 09:20:00 cc-ws-611 crm-sso[812]: login success user=tpatel src_ip=10.20.30.41",
                    [
                        ("program", "crm-sso"), ("user", "tpatel"), ("src_ip", "10.20.30.41"), ("action", "login"),
                        ("outcome", "success"),
                    ]
                ),
            ],
            [
                try ws611.event(
                    "2026-11-24T09:40:00Z",
                    "Nov 24 09:40:00 cc-ws-611 crm-app[900]: heartbeat",
                    [("program", "crm-app")]
                )
            ],
            [
                try ws611.event(
                    "2026-11-24T10:47:00Z",
                    "Nov 24 10:47:00 cc-ws-611 anydesk[4242]: Incoming session request from 198.51.100.23, remote desktop session started for user=tpatel",
                    [
                        ("program", "anydesk"), ("pid", "4242"), ("user", "tpatel"), ("src_ip", "198.51.100.23"),
                        ("action", "remote_session"),
                    ]
                ),
                try ws611.event(
                    "2026-11-24T22:30:00Z",
                    "Nov 24 22:30:00 cc-ws-611 crm-app[900]: record view account=ACME-77 user=tpatel",
                    [("program", "crm-app"), ("user", "tpatel"), ("action", "record_view")]
                ),
            ],
        ])
        let store = try Storage.open(path: fixture.database)
        try await store.enroll(name: ws602.name, publicKeyBase64: ws602.publicKeyBase64, atNanos: 1)
        try await store.enroll(name: ws611.name, publicKeyBase64: ws611.publicKeyBase64, atNanos: 1)
        try await ws602.ingest(chain602, into: store)
        try await ws611.ingest([chain611[0], chain611[2]], into: store)
        if signCheckpoint {
            let signer = try AggregatorKeyFile.loadOrCreate(fixture.aggregatorKey)
            _ = try await store.makeCheckpoint(signer: signer, atNanos: nowNanos())
        }
        // The full-text index trails the commit; `query --match` and hunts need it complete.
        try await store.drainFullTextIndex()
        return fixture
    }

    public func cleanup() { self.directory.cleanup() }
}

/// What the investigator's HTML report shows (``ReportRenderer``): the selection, the incident timeline across hosts
/// with its gaps and findings, events over time per host, the hunt rules that matched, and the chain of custody.
///
/// A plain value, filled by the store (`flightlog export`) from the same selection the bundle holds; every string in
/// it may come from a log line or an agent and is escaped by the renderer. The gatherer may hold more rows than the
/// renderer shows: ``ReportLimits`` bounds the page, and the totals say how many there are in all.
public struct IncidentReport: Sendable, Equatable {
    /// The selection's time range: the filters' window when given, else the first and last selected event.
    public var windowStart: Int64?
    public var windowEnd: Int64?
    /// The export's filters as `name=value` lines, in the order given.
    public var filters: [String]
    /// The agents with at least one selected event.
    public var agents: [String]
    public var generatedNanos: Int64
    /// The operating-system user who made it.
    public var generatedBy: String
    /// What made it: program, bundle format and report format.
    public var generator: String
    /// Every selected event, counted (the timeline shows the first ``events``).
    public var totalEvents: Int
    /// The first selected events, oldest first.
    public var events: [Event]
    /// Gaps, silences and findings of the agents involved, in time order.
    public var markers: [Marker]
    /// Selected events per host and time bucket.
    public var chart: Chart
    public var hunt: Hunt
    public var custody: Custody

    public init(
        windowStart: Int64?,
        windowEnd: Int64?,
        filters: [String],
        agents: [String],
        generatedNanos: Int64,
        generatedBy: String,
        generator: String,
        totalEvents: Int,
        events: [Event],
        markers: [Marker],
        chart: Chart,
        hunt: Hunt,
        custody: Custody
    ) {
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.filters = filters
        self.agents = agents
        self.generatedNanos = generatedNanos
        self.generatedBy = generatedBy
        self.generator = generator
        self.totalEvents = totalEvents
        self.events = events
        self.markers = markers
        self.chart = chart
        self.hunt = hunt
        self.custody = custody
    }

    // MARK: - Timeline

    /// One event as the timeline shows it.
    public struct Event: Sendable, Equatable {
        public var id: Int64
        public var timeNanos: Int64
        public var host: String
        public var agent: String
        public var program: String?
        public var user: String?
        public var sourceIP: String?
        /// The raw line as text (invalid UTF-8 already replaced by U+FFFD), with an identity note before it.
        public var message: String
        /// Where it is signed: `e<epoch>/s<seq>` of its batch.
        public var batch: String
        /// The titles of the hunt rules it matched.
        public var rules: [String]

        public init(
            id: Int64,
            timeNanos: Int64,
            host: String,
            agent: String,
            program: String?,
            user: String?,
            sourceIP: String?,
            message: String,
            batch: String,
            rules: [String] = []
        ) {
            self.id = id
            self.timeNanos = timeNanos
            self.host = host
            self.agent = agent
            self.program = program
            self.user = user
            self.sourceIP = sourceIP
            self.message = message
            self.batch = batch
            self.rules = rules
        }
    }

    /// A gap in an agent's chain, a silence, or another recorded finding, as `flightlog timeline` marks them.
    public struct Marker: Sendable, Equatable {
        public enum Kind: String, Sendable {
            case gap
            case silence
            case finding

            /// The label shown next to it (not only a colour).
            public var label: String {
                switch self {
                case .gap: "GAP"
                case .silence: "SILENT"
                case .finding: "FINDING"
                }
            }
        }

        public var kind: Kind
        public var timeNanos: Int64
        public var agent: String
        public var detail: String

        public init(kind: Kind, timeNanos: Int64, agent: String, detail: String) {
            self.kind = kind
            self.timeNanos = timeNanos
            self.agent = agent
            self.detail = detail
        }
    }

    // MARK: - Chart

    /// Events per host in equal time buckets from `startNanos`.
    public struct Chart: Sendable, Equatable {
        public var startNanos: Int64
        public var bucketNanos: Int64
        public var series: [Series]

        public init(startNanos: Int64, bucketNanos: Int64, series: [Series]) {
            self.startNanos = startNanos
            self.bucketNanos = bucketNanos
            self.series = series
        }

        /// One host's counts, bucket by bucket from the chart's start.
        public struct Series: Sendable, Equatable {
            public var host: String
            public var counts: [Int]

            public init(host: String, counts: [Int]) {
                self.host = host
                self.counts = counts
            }
        }
    }

    // MARK: - Hunt

    /// The Sigma rules run over the selection, or why none was.
    public struct Hunt: Sendable, Equatable {
        /// The rule paths given (`export --rules`); empty when no hunt was run.
        public var paths: [String]
        public var rulesLoaded: Int
        public var rulesRun: Int
        /// The rules that matched, in the order loaded.
        public var matched: [Rule]
        /// Rules that could not run, with the reason.
        public var notRun: [NotRun]

        public init(paths: [String], rulesLoaded: Int, rulesRun: Int, matched: [Rule], notRun: [NotRun]) {
            self.paths = paths
            self.rulesLoaded = rulesLoaded
            self.rulesRun = rulesRun
            self.matched = matched
            self.notRun = notRun
        }

        /// No hunt: no rules were given.
        public static let none = Hunt(paths: [], rulesLoaded: 0, rulesRun: 0, matched: [], notRun: [])

        /// A rule that matched: how often, and its first matching events.
        public struct Rule: Sendable, Equatable {
            public var title: String
            public var level: String?
            public var file: String
            /// Whether it is a correlation rule (its count is of hits, not events).
            public var correlation: Bool
            public var count: Int
            /// One line per correlation hit (group, size, time span), the first ones.
            public var hits: [String]
            /// Its first matching events (for a correlation: the events of its first hits).
            public var events: [Event]

            public init(
                title: String,
                level: String?,
                file: String,
                correlation: Bool,
                count: Int,
                hits: [String],
                events: [Event]
            ) {
                self.title = title
                self.level = level
                self.file = file
                self.correlation = correlation
                self.count = count
                self.hits = hits
                self.events = events
            }
        }

        public struct NotRun: Sendable, Equatable {
            public var title: String
            public var reason: String

            public init(title: String, reason: String) {
                self.title = title
                self.reason = reason
            }
        }
    }

    // MARK: - Custody

    /// Where the events come from and how to check them.
    public struct Custody: Sendable, Equatable {
        /// The bundle directory holding this report, or nil for a report written alone.
        public var bundleDirectory: String?
        /// The database it was exported from.
        public var database: String
        /// The command line that made it.
        public var command: [String]
        /// How many signed batches hold the selected events.
        public var batchCount: Int
        /// Those batches, the first ones (``ReportLimits/batches``).
        public var batches: [Batch]
        public var agents: [Agent]
        /// The checkpoint the bundle's inclusion proofs lead to (or, written alone, the latest stored one).
        public var checkpoint: Checkpoint?
        /// The last recorded `flightlog verify` run on the database, one line.
        public var lastVerify: String?

        public init(
            bundleDirectory: String?,
            database: String,
            command: [String],
            batchCount: Int,
            batches: [Batch],
            agents: [Agent],
            checkpoint: Checkpoint?,
            lastVerify: String?
        ) {
            self.bundleDirectory = bundleDirectory
            self.database = database
            self.command = command
            self.batchCount = batchCount
            self.batches = batches
            self.agents = agents
            self.checkpoint = checkpoint
            self.lastVerify = lastVerify
        }

        /// An agent, its key and the last batch of each chain epoch among the selected ones.
        public struct Agent: Sendable, Equatable {
            public var name: String
            /// `sha256:` and the first 16 hex digits of the key id.
            public var fingerprint: String
            public var enrolledNanos: Int64
            public var revokedNanos: Int64?
            /// `e<epoch>/s<seq> <batch hash>` of the newest selected batch of each epoch.
            public var chainHeads: [String]

            public init(
                name: String,
                fingerprint: String,
                enrolledNanos: Int64,
                revokedNanos: Int64?,
                chainHeads: [String]
            ) {
                self.name = name
                self.fingerprint = fingerprint
                self.enrolledNanos = enrolledNanos
                self.revokedNanos = revokedNanos
                self.chainHeads = chainHeads
            }
        }

        /// A signed batch: its place in the agent's chain and in the transparency log.
        public struct Batch: Sendable, Equatable {
            public var agent: String
            public var epoch: UInt64
            public var sequence: UInt64
            /// SHA-256 of the signed envelope, hex.
            public var hash: String
            public var receivedNanos: Int64?
            public var leafIndex: UInt64?

            public init(
                agent: String,
                epoch: UInt64,
                sequence: UInt64,
                hash: String,
                receivedNanos: Int64?,
                leafIndex: UInt64?
            ) {
                self.agent = agent
                self.epoch = epoch
                self.sequence = sequence
                self.hash = hash
                self.receivedNanos = receivedNanos
                self.leafIndex = leafIndex
            }
        }

        /// A transparency-log checkpoint: the log's name, size and root.
        public struct Checkpoint: Sendable, Equatable {
            public var origin: String
            public var treeSize: UInt64
            /// Base64, as in the signed note.
            public var rootHash: String
            /// The aggregator's verifier key (signed-note form), when known.
            public var verifierKey: String?

            public init(origin: String, treeSize: UInt64, rootHash: String, verifierKey: String?) {
                self.origin = origin
                self.treeSize = treeSize
                self.rootHash = rootHash
                self.verifierKey = verifierKey
            }
        }
    }
}

import Crypto
import Foundation

/// The report's one style sheet and the Content-Security-Policy that admits it and nothing else.
///
/// The policy names the SHA-256 of the exact text inside `<style>…</style>`, so that even an inline style the report
/// did not bring is refused (no `'unsafe-inline'`), and it has no `script-src`: under `default-src 'none'` no script
/// runs, whatever a log line smuggles in. Nothing is loaded from the network (images only as `data:`, none used).
public enum ReportStyle {
    /// The style sheet, character for character what the hash covers.
    public static let css = """

        :root{--ink:#1d2430;--muted:#5b6573;--rule:#d5dae1;--band:#f4f6f8;--accent:#1f3a5f;\
        --gap:#fff1d6;--gap-ink:#7a4b00;--silence:#eef0f3;--finding:#fde4e4;--finding-ink:#8a1c1c;--hit:#e8f0fb}
        *{box-sizing:border-box}
        body{margin:0 auto;max-width:1180px;padding:28px 32px 48px;color:var(--ink);background:#fff;
        font:14px/1.45 "DejaVu Sans","Segoe UI",Helvetica,Arial,sans-serif}
        header{border-bottom:3px solid var(--accent);padding-bottom:12px;margin-bottom:18px}
        h1{font-size:24px;margin:0 0 4px;color:var(--accent)}
        h2{font-size:18px;margin:30px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--rule);color:var(--accent)}
        h3{font-size:15px;margin:18px 0 6px}
        p{margin:6px 0}
        .sub{color:var(--muted);margin:2px 0}
        .meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:10px 0 0}
        .meta dt{color:var(--muted)}
        .meta dd{margin:0}
        .cards{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}
        .card{border:1px solid var(--rule);border-radius:6px;padding:8px 14px;min-width:120px;background:var(--band)}
        .card b{display:block;font-size:22px}
        .card span{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
        .card.alert{background:var(--finding);border-color:#e9b4b4}
        .card.warn{background:var(--gap);border-color:#ecd29b}
        table{border-collapse:collapse;width:100%;margin:6px 0 4px;font-size:12.5px}
        th{text-align:left;background:var(--band);border-bottom:2px solid var(--rule);padding:5px 6px;white-space:nowrap}
        td{border-bottom:1px solid var(--rule);padding:4px 6px;vertical-align:top;overflow-wrap:break-word}
        td.time,td.name{white-space:nowrap;font-variant-numeric:tabular-nums}
        td.msg,code,.mono{font-family:"DejaVu Sans Mono",Consolas,monospace;font-size:12px}
        td.msg{word-break:break-all;white-space:pre-wrap}
        tr.gap td{background:var(--gap);color:var(--gap-ink)}
        tr.silence td{background:var(--silence)}
        tr.finding td{background:var(--finding);color:var(--finding-ink)}
        tr.hit td{background:var(--hit)}
        .tag{display:inline-block;font:700 10.5px/1.6 "DejaVu Sans",Arial,sans-serif;letter-spacing:.05em;
        padding:0 6px;margin-right:6px;border-radius:3px;border:1px solid currentColor;white-space:nowrap}
        .tag.gap{color:var(--gap-ink)}
        .tag.finding{color:var(--finding-ink)}
        .tag.rule{color:var(--accent);white-space:normal}
        td.msg .tag{font-size:10px;margin:0 6px 2px 0}
        .more{color:var(--muted);font-style:italic;margin:4px 0 10px}
        .chart{margin:6px 0 14px}
        .chart svg{width:100%;height:auto;display:block}
        .bar{fill:#3d6a9e}
        .axis{stroke:#9aa3ae;stroke-width:1}
        .label{fill:#5b6573;font:11px "DejaVu Sans",Arial,sans-serif}
        .host{fill:#1d2430;font:700 12px "DejaVu Sans",Arial,sans-serif}
        .mark-gap{fill:#e39b1b}
        .mark-finding{fill:#c0392b}
        .mark-silence{fill:#9aa3ae}
        .rule{border:1px solid var(--rule);border-radius:6px;padding:8px 12px;margin:10px 0}
        .rule h3{margin:0 0 4px}
        pre{background:var(--band);border:1px solid var(--rule);padding:8px 10px;white-space:pre-wrap;word-break:break-all}
        footer{margin-top:34px;color:var(--muted);font-size:12px;border-top:1px solid var(--rule);padding-top:8px}
        @media print{body{max-width:none;padding:0;font-size:11px}h2{break-after:avoid}tr,.rule,.chart{break-inside:avoid}
        .card{background:#fff}a{color:inherit}}

        """

    /// `'sha256-…'` of ``css``, as the policy names it.
    public static var cssHash: String {
        "'sha256-" + Data(SHA256.hash(data: Data(Self.css.utf8))).base64EncodedString() + "'"
    }

    /// The page's Content-Security-Policy: nothing but this style sheet and `data:` images; no scripts at all.
    public static var contentSecurityPolicy: String {
        "default-src 'none'; style-src \(Self.cssHash); img-src data:; base-uri 'none'; form-action 'none'"
    }
}

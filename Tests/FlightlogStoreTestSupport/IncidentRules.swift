/// Sigma rules written for the incident of ``IncidentFixture``.
public enum IncidentRules {
    /// Base rules that correlations over the incident relate, as one more YAML document each.
    public static let correlationParts = """
        ---
        title: help desk
        name: desk
        detection:
          sel:
            program: servicedesk
          condition: sel
        ---
        title: login
        name: login
        detection:
          sel:
            action: login
            outcome: success
          condition: sel
        ---
        title: consent
        name: consent
        detection:
          sel:
            event: oauth_consent
          condition: sel
        ---
        title: export
        name: export
        detection:
          sel:
            event: bulk_export
          condition: sel
        """
}

"""/api/v1/disputes/: mediation organisations and cases (矛盾纠纷调解)."""

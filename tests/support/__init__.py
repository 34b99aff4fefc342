"""Shared test helpers, imported by the test modules (``from support.fake_portal import FakePortal``):
a local HTTP server, a fake Đà Nẵng portal, the bad-input corpus and a polling helper. Test modules never
import each other."""

"""The bottom of the stack: types and helpers every app may use, which import no app of ours.

Who did something (`Actor`), the errors services raise, text and transaction helpers, the admin's
service-backed base class. See docs/architecture.md for the layers above.
"""

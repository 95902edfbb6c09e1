"""The GraphQL transport: a Strawberry schema over the same service layer as REST."""

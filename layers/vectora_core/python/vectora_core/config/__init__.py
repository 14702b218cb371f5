"""Client configs and canonical files: schema, validation, loading, migration, publication."""

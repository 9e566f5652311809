"""apstore, also sold as barakat: a JSON e-pin API with batch status checks and an api-token header."""

"""One FastAPI app per Lambda function. Routes are thin: parse, call logic, map errors."""

"""What benchmarks and tests share, kept here so that bench never imports tests (tests may import bench.support):

- fake_openrouter: a loopback fake of the OpenRouter API (tests and benchmarks only, never imported by the
  product: sgd and sgd_local talk to whatever base URL they are given);
- pdfs: guideline PDFs of layouts other than the example kits', with the canon each should give (fpdf2, a
  development-only dependency);
- loopback_http: a loopback HTTP server with the slow and endless answers the outbound client must cut;
- images: PNG headers that claim more pixels than they hold.
"""

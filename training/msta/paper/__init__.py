"""`python3 -m msta paper-table`: a synthetic reproduction of MSTA's claims (few-shot gain, L_CC in
base-to-novel, parameter efficiency) on a tiny backbone pretrained without the target labels."""

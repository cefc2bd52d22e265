"""The safety-check programme: certificates per property (gas, electrical) and fire
risk assessments per block, swept daily for what is coming due."""

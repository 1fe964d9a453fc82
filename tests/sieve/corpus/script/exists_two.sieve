require ["fileinto"];
if exists ["from","x-spam-flag"] { fileinto "Flagged"; }

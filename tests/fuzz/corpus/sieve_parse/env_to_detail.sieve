require ["fileinto", "envelope", "subaddress"];
if envelope :detail :matches "to" "*" { fileinto "EnvDetail"; } else { fileinto "NoDetail"; }

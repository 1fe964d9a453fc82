require ["fileinto"];
/* a bracketed
 comment */ if true { fileinto "C"; } # trailing

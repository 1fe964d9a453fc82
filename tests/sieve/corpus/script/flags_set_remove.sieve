require ["imap4flags", "fileinto"];
setflag ["\\Seen", "\\Flagged"];
removeflag "\\Flagged";
fileinto "Read";

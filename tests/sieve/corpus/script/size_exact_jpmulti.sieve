require "fileinto";
if size :over 682 { fileinto "o1"; }
if size :over 683 { fileinto "o2"; }
if size :under 683 { fileinto "u1"; }
if size :under 684 { fileinto "u2"; }

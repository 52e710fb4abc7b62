// Small progressive enhancements; every page works without them.
(function () {
  "use strict";
  // Exit this page: leave at once and keep this page out of the back button's reach.
  var exit = document.getElementById("exit");
  if (exit) {
    exit.addEventListener("click", function (e) {
      e.preventDefault();
      document.body.hidden = true;
      window.location.replace(exit.href);
    });
    var shifts = 0, timer = null;
    document.addEventListener("keyup", function (e) {
      if (e.key !== "Shift") { return; }
      shifts += 1;
      clearTimeout(timer);
      timer = setTimeout(function () { shifts = 0; }, 1000);
      if (shifts >= 3) { exit.click(); }
    });
  }
  // Use my location: the browser asks; nothing is sent until the person searches.
  var locate = document.getElementById("locate");
  if (locate && "geolocation" in navigator) {
    locate.hidden = false;
    var failed = document.getElementById("locate-error");
    locate.addEventListener("click", function () {
      failed.hidden = true;
      navigator.geolocation.getCurrentPosition(function (p) {
        document.getElementById("lat").value = p.coords.latitude.toFixed(3);
        document.getElementById("lon").value = p.coords.longitude.toFixed(3);
        document.getElementById("postcode").value = "";
        locate.form.submit();
      }, function () {
        // Refused, or no fix in time: say so, and offer the postcode instead.
        failed.textContent = locate.getAttribute("data-error");
        failed.hidden = false;
        document.getElementById("postcode").focus();
      }, { timeout: 15000, maximumAge: 600000 });
    });
  }
  var print = document.getElementById("print");
  if (print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }
})();

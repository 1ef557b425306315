print("flightlog-agent")

// libcni-driver runs one CNI operation of a conflist through libcni, the library containerd and
// CRI-O use, and validates the result: usage
//
//	libcni-driver add|check|del CONFLIST CONTAINER_ID NETNS IFNAME CACHE_DIR BIN_DIR [HOSTPORT]
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/containernetworking/cni/libcni"
	types100 "github.com/containernetworking/cni/pkg/types/100"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "libcni-driver: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 8 {
		fail("usage: add|check|del CONFLIST CONTAINER_ID NETNS IFNAME CACHE_DIR BIN_DIR [HOSTPORT]")
	}
	op, confPath, id, netns, ifName, cacheDir, binDir := os.Args[1], os.Args[2], os.Args[3],
		os.Args[4], os.Args[5], os.Args[6], os.Args[7]
	list, err := libcni.ConfListFromFile(confPath)
	if err != nil {
		fail("conflist: %v", err)
	}
	rt := &libcni.RuntimeConf{ContainerID: id, NetNS: netns, IfName: ifName,
		CapabilityArgs: map[string]interface{}{}}
	if len(os.Args) > 8 {
		port, _ := strconv.Atoi(os.Args[8])
		rt.CapabilityArgs["portMappings"] = []map[string]interface{}{
			{"hostPort": port, "containerPort": 5000, "protocol": "tcp"}}
	}
	cni := libcni.NewCNIConfigWithCacheDir(strings.Split(binDir, ":"), cacheDir, nil)
	ctx := context.Background()
	switch op {
	case "add":
		res, err := cni.AddNetworkList(ctx, list, rt)
		if err != nil {
			fail("ADD: %v", err)
		}
		if res.Version() != list.CNIVersion {
			fail("result version %s, conflist says %s", res.Version(), list.CNIVersion)
		}
		cur, err := types100.NewResultFromResult(res)
		if err != nil {
			fail("result does not convert to 1.0.0: %v", err)
		}
		if len(cur.IPs) == 0 || len(cur.Interfaces) == 0 {
			fail("result has no IPs or interfaces: %+v", cur)
		}
		for _, ip := range cur.IPs {
			if ip.Interface == nil || *ip.Interface >= len(cur.Interfaces) ||
				cur.Interfaces[*ip.Interface].Sandbox != netns {
				fail("IP %s does not point at the sandbox interface", ip.Address.String())
			}
			if ones, _ := ip.Address.Mask.Size(); ip.Address.IP.To4() != nil && ones != 32 {
				fail("IPv4 address %s is not a /32", ip.Address.String())
			}
			if net.ParseIP(ip.Address.IP.String()) == nil {
				fail("bad IP %v", ip.Address)
			}
		}
		out, _ := json.Marshal(cur)
		fmt.Println(string(out))
	case "check":
		if err := cni.CheckNetworkList(ctx, list, rt); err != nil {
			fail("CHECK: %v", err)
		}
	case "del":
		if err := cni.DelNetworkList(ctx, list, rt); err != nil {
			fail("DEL: %v", err)
		}
	default:
		fail("unknown operation %s", op)
	}
}
